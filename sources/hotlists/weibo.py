"""Weibo 热搜 via ``weibo.com/ajax/side/hotSearch`` (shape: fixtures/hotlists/SHAPES.md).

Ads (``is_ad``, or the 荐 badge) are dropped; the government topic pinned above the list
(``data.hotgov`` / ``data.hotgovs``) is kept as a pinned item without a rank.
"""

from __future__ import annotations

from typing import Any

from sources.hotlists.base import ListSpec, Platform, api_status, first_text, search_url


def is_ad(entry: dict[str, Any]) -> bool:
    return bool(entry.get("is_ad")) or entry.get("icon_desc") == "荐"


_WORD = first_text("word", "word_scheme", "name")


def title(entry: dict[str, Any]) -> str | None:
    """The hot word without the #…# topic markers."""
    word = _WORD(entry)
    return (word.strip("#").strip() or None) if word else None
_URL = search_url("https://s.weibo.com/weibo?q=", "word", wrap="#{}#")

PLATFORM = Platform(
    name="weibo",
    url="https://weibo.com/ajax/side/hotSearch",
    headers=(("Referer", "https://weibo.com/"),),
    check=api_status("ok", (1, True), message="msg"),
    lists=(
        ListSpec("data.hotgov", title, url=_URL, pinned=True, optional=True),
        ListSpec("data.hotgovs", title, url=_URL, pinned=True, optional=True),
        ListSpec("data.realtime", title, url=_URL, heat="num", skip=is_ad),
    ),
)
