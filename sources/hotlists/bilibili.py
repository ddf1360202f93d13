"""Bilibili: the hot-search words (``bilibili``) and the all-site video ranking
(``bilibili-ranking``; it needs WBI signing upstream and may be refused under risk control).
"""

from __future__ import annotations

from sources.hotlists.base import ListSpec, Platform, api_status, first_text, search_url

HOTWORD = Platform(
    name="bilibili",
    url="https://s.search.bilibili.com/main/hotword?limit=30",
    headers=(("Referer", "https://www.bilibili.com/"),),
    check=api_status("code", (0,)),
    lists=(
        ListSpec("list", first_text("show_name", "keyword"),
                 url=search_url("https://search.bilibili.com/all?keyword=", "keyword"),
                 heat="heat_score", rank="pos"),
    ),
)

RANKING = Platform(
    name="bilibili-ranking",
    url="https://api.bilibili.com/x/web-interface/ranking/v2?rid=0&type=all",
    headers=(("Referer", "https://www.bilibili.com/"),),
    check=api_status("code", (0,)),
    lists=(
        ListSpec("data.list", "title", url="https://www.bilibili.com/video/{bvid}",
                 heat="stat.view"),
    ),
)
