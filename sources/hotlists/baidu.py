"""Baidu 热搜 via ``top.baidu.com/api/board?platform=web&tab=realtime`` (real response stored).

``topContent`` is the pinned slot above the list; ``hotScore`` is a string of digits.
"""

from __future__ import annotations

from sources.hotlists.base import ListSpec, Platform, api_status, first_text

_TITLE = first_text("word", "query")
_URL = first_text("url", "rawUrl", "appUrl")

PLATFORM = Platform(
    name="baidu",
    url="https://top.baidu.com/api/board?platform=web&tab=realtime",
    check=api_status("success", (True,), message="error.message"),
    lists=(
        ListSpec("data.cards.0.topContent", _TITLE, url=_URL, heat="hotScore", pinned=True,
                 optional=True),
        ListSpec("data.cards.0.content", _TITLE, url=_URL, heat="hotScore"),
    ),
)
