"""Toutiao 热榜 via ``www.toutiao.com/hot-event/hot-board/`` (``data`` + pinned ``fixed_top_data``).

``HotValue`` is a string of digits.
"""

from __future__ import annotations

from typing import Any

from sources.hotlists.base import ListSpec, Platform, api_status, fill_template
from sources.shape import lookup, text_or_none


def trending_url(entry: dict[str, Any]) -> str | None:
    return (fill_template("https://www.toutiao.com/trending/{ClusterIdStr}/", entry)
            or text_or_none(lookup(entry, "Url")))


PLATFORM = Platform(
    name="toutiao",
    url="https://www.toutiao.com/hot-event/hot-board/?origin=toutiao_pc",
    check=api_status("status", ("success",)),
    lists=(
        ListSpec("fixed_top_data", "Title", url="Url", pinned=True, optional=True),
        ListSpec("data", "Title", url=trending_url, heat="HotValue"),
    ),
)
