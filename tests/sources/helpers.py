"""Small builders shared by the sources tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sources.kinds import kind_of
from sources.model import Parsed
from topicscout.config import SourceConfig
from topicscout.types import Item

DATA = Path(__file__).resolve().parent.parent / "data" / "sources"
SEEN_AT = datetime(2026, 3, 15, 5, 30, tzinfo=UTC)


def source(name: str = "src", kind: str = "hotlist", *, platform: str | None = None,
           url: str | None = "https://example.com/feed", **options: Any) -> SourceConfig:
    return SourceConfig(name=name, kind=kind, url=url, platform=platform,
                        options=tuple(sorted(options.items())))


def parse(spec: SourceConfig, body: bytes, content_type: str | None = None,
          url: str | None = None) -> list[Item]:
    """Run the kind's parser exactly as the crawler does (without the network)."""
    ctx = Parsed(source=spec.name, seen_at=SEEN_AT, url=url or spec.url or "",
                 content_type=content_type)
    return kind_of(spec).parser(spec)(body, ctx)


def item_record(item: Item) -> dict[str, Any]:
    return {"title": item.title, "url": item.url, "rank": item.rank, "heat": item.heat,
            "pinned": item.pinned, "guid": item.guid,
            "published_at": item.published_at.isoformat() if item.published_at else None}
