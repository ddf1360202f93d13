"""Douyin 热榜 via ``www.douyin.com/aweme/v1/web/hot/search/list/`` (``data.word_list``).

Upstream wants a ``passport_csrf_token`` cookie: put one in the source's ``headers``.
``trending_list`` (实时上升, heat always 0) is not read.
"""

from __future__ import annotations

from sources.hotlists.base import ListSpec, Platform

PLATFORM = Platform(
    name="douyin",
    url=("https://www.douyin.com/aweme/v1/web/hot/search/list/?device_platform=webapp"
         "&aid=6383&channel=channel_pc_web&detail_list=1"),
    headers=(("Referer", "https://www.douyin.com/"),),
    lists=(
        ListSpec("data.word_list", "word", url="https://www.douyin.com/hot/{sentence_id}",
                 heat="hot_value", rank="position"),
    ),
)
