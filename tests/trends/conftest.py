"""Shared helpers for trends tests: one jieba tokenizer per session (loading it takes ~1 s)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from topicscout.types import Item
from trends.text import Tokenizer

T0 = datetime(2026, 2, 13, 1, 30, tzinfo=UTC)  # 09:30 in Beijing


@pytest.fixture(scope="session")
def tokenizer() -> Tokenizer:
    return Tokenizer(["英伟达", "DeepSeek", "小米SU7", "mac"])


def seen(platform: str, title: str, hours_before: float, rank: int | None,
         heat: int | None = None, now: datetime = T0) -> Item:
    """An observation ``hours_before`` now."""
    return Item(platform=platform, title=title, seen_at=now - timedelta(hours=hours_before),
                rank=rank, heat=heat)


def hourly(platform: str, title: str, ranks: dict[float, int], heat: int | None = None,
           now: datetime = T0) -> list[Item]:
    """One observation per {hours_before: rank}."""
    return [seen(platform, title, h, r, heat, now) for h, r in ranks.items()]


def background(platform: str, hours: range, per_fetch: int = 20, now: datetime = T0,
               tag: str = "") -> list[Item]:
    """Filler headlines on a list at each hour, so the list has fetches and a baseline."""
    out = []
    for h in hours:
        for r in range(per_fetch):
            out.append(seen(platform, f"{platform}{tag}常驻话题{r}号讨论", h, 30 + r, now=now))
    return out
