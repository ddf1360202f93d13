"""Zhihu 热榜 via ``www.zhihu.com/api/v3/feed/topstory/hot-lists/total`` (real response stored).

Heat comes only as display text ("1854 万热度"); the older ``api.zhihu.com`` layout keeps it in
``detail_text`` and the question under ``target.title`` / ``target.url``, so both are read.
"""

from __future__ import annotations

import re
from typing import Any

from sources.hotlists.base import ListSpec, Platform, first_text
from sources.shape import lookup, text_or_none

_API_QUESTION = re.compile(r"^https?://api\.zhihu\.com/questions/(\d+)")


def question_url(entry: dict[str, Any]) -> str | None:
    url = text_or_none(lookup(entry, "target.link.url")) or text_or_none(
        lookup(entry, "target.url"))
    if url:
        # The old API links to its own JSON; people want the question page.
        match = _API_QUESTION.match(url)
        return f"https://www.zhihu.com/question/{match.group(1)}" if match else url
    return None


PLATFORM = Platform(
    name="zhihu",
    url="https://www.zhihu.com/api/v3/feed/topstory/hot-lists/total?limit=50",
    headers=(("Referer", "https://www.zhihu.com/hot"),),
    lists=(
        ListSpec("data", first_text("target.title_area.text", "target.title"),
                 url=question_url, heat=first_text("target.metrics_area.text", "detail_text")),
    ),
)
