"""Self-hosted aggregators: NewsNow (``/api/s?id=<id>&latest``, ~50 lists behind one endpoint)
and DailyHotApi (``/<route>``). Both are described as data like the platforms; only their URLs
are built from the source's base URL and list id.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sources.hotlists.base import ListSpec, api_status
from sources.shape import describe, lookup, text_or_none

NEWSNOW_LISTS = (ListSpec("items", "title", url="url"),)
DAILYHOT_LISTS = (ListSpec("data", "title", url="url", heat="hot"),)


def newsnow_url(base: str, list_id: str) -> str:
    return f"{base.rstrip('/')}/api/s?id={quote(list_id, safe='')}&latest"


def dailyhot_url(base: str, route: str) -> str:
    return f"{base.rstrip('/')}/{quote(route.strip('/'), safe='/')}"


def newsnow_check(data: Any) -> str | None:
    """NewsNow answers ``status: success`` or ``cache`` (served from its cache); else failed."""
    if not isinstance(data, dict):
        return f"expected a JSON object, got {describe(data)}"
    status = lookup(data, "status")
    if status in ("success", "cache"):
        return None
    detail = text_or_none(lookup(data, "message"))
    shown = repr(status) if isinstance(status, str) else describe(status)
    return f"NewsNow status {shown}" + (f" ({detail[:120]})" if detail else "")


dailyhot_check = api_status("code", (200,))
