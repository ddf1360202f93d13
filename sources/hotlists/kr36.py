"""36Kr 人气榜 via the gateway's ``POST /api/mis/nav/home/nav/rank/hot`` (``data.hotRankList``).

The body carries a millisecond timestamp, so it is built per request from the crawl's clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sources.hotlists.base import ListSpec, Platform, api_status


def request_body(now: datetime) -> dict[str, Any]:
    return {"partner_id": "wap", "param": {"siteId": 1, "platformId": 2},
            "timestamp": int(now.timestamp() * 1000)}


PLATFORM = Platform(
    name="36kr",
    url="https://gateway.36kr.com/api/mis/nav/home/nav/rank/hot",
    method="POST",
    body=request_body,
    headers=(("Referer", "https://36kr.com/"),),
    check=api_status("code", (0,)),
    lists=(
        ListSpec("data.hotRankList", "templateMaterial.widgetTitle",
                 url="https://36kr.com/p/{itemId}", heat="templateMaterial.statCollect"),
    ),
)
