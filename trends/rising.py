"""Momentum: is a story climbing now, or merely hot? Pure, causal functions of observations."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from topicscout.types import Item
from trends.model import Momentum

# How far back "where was it before?" looks when describing a climb.
CLIMB_SPAN = timedelta(hours=6)
# A story whose best moment is older than this and that has lost ground is fading.
PEAK_STALE = timedelta(hours=12)
# Age after which freshness decays, and how fast (hours).
FRESH_FOR_H = 12.0
FRESH_DECAY_H = 18.0
# Points for an unranked entry (feeds), comparable to a mid-list hot-list slot.
UNRANKED_POINTS = 0.3


def rank_points(rank: int | None) -> float:
    """#1 = 1.0, #4 = 0.5, #25 = 0.2: the top of a list matters far more than its tail."""
    return UNRANKED_POINTS if rank is None else 1.0 / math.sqrt(max(rank, 1))


def _snapshots(observations: Sequence[Item]) -> dict[str, dict[datetime, int | None]]:
    """platform -> seen_at -> best rank the story had in that fetch."""
    out: dict[str, dict[datetime, int | None]] = defaultdict(dict)
    for item in observations:
        if item.pinned:
            continue
        slots = out[item.platform]
        best = slots.get(item.seen_at)
        better = item.rank is not None and (best is None or item.rank < best)
        if item.seen_at not in slots or better:
            slots[item.seen_at] = item.rank
    return out


def _rank_at(slots: dict[datetime, int | None], moment: datetime) -> int | bool | None:
    """Rank in the last fetch at or before ``moment``; False when it was not on the list."""
    before = [t for t in slots if t <= moment]
    return slots[max(before)] if before else False


def momentum(observations: Sequence[Item], now: datetime,
             latest_fetch: dict[str, datetime]) -> Momentum | None:
    """Momentum of one story; None when it is on no list right now."""
    by_platform = _snapshots([o for o in observations if o.seen_at <= now])
    current = {p: slots[latest_fetch[p]] for p, slots in by_platform.items()
               if p in latest_fetch and latest_fetch[p] in slots}
    if not current:
        return None
    presence = sum(rank_points(r) for r in current.values())
    climb, phrases = 0.0, []
    for platform, rank in sorted(current.items(), key=lambda kv: rank_points(kv[1]), reverse=True):
        slots = by_platform[platform]
        start = min(slots)
        earlier = _rank_at(slots, now - CLIMB_SPAN)
        was = 0.0 if earlier is False else rank_points(earlier)  # type: ignore[arg-type]
        climb += max(0.0, rank_points(rank) - was)
        phrases.append(_describe(platform, rank, earlier, slots, start, now))
    first_seen = min(o.seen_at for o in observations if o.seen_at <= now)
    age_h = (now - first_seen).total_seconds() / 3600
    freshness = 1.0 if age_h <= FRESH_FOR_H else math.exp(-(age_h - FRESH_FOR_H) / FRESH_DECAY_H)
    peak_time, peak = _peak(by_platform)
    fading = now - peak_time > PEAK_STALE and presence < 0.6 * peak
    breadth = len(current)
    score = (0.5 * presence + climb) * (1 + 0.35 * (breadth - 1)) * freshness
    if fading:
        score *= 0.4
    platforms = tuple(sorted(current, key=lambda p: rank_points(current[p]), reverse=True))
    why = "; ".join(phrases[:3])
    if breadth > 1:
        why += f"; now on {breadth} platforms"
    heat = _heat_growth(observations, now)
    if heat:
        why += f"; heat ×{heat:.1f}"
    return Momentum(score=score, first_seen=first_seen, platforms=platforms, why=why,
                    fading=fading)


def _describe(platform: str, rank: int | None, earlier: int | bool | None,
              slots: dict[datetime, int | None], start: datetime, now: datetime) -> str:
    hours = max(1, round((now - start).total_seconds() / 3600))
    if rank is None:
        return f"{platform}: listed {hours} h ago"
    if earlier is False:
        return f"{platform}: new at #{rank} ({hours} h ago)"
    if earlier is not None and earlier != rank:
        span = round(CLIMB_SPAN.total_seconds() / 3600)
        return f"{platform} #{earlier}→#{rank} in {span} h"
    return f"{platform} #{rank} for {hours} h"


def _peak(by_platform: dict[str, dict[datetime, int | None]]) -> tuple[datetime, float]:
    totals: dict[datetime, float] = defaultdict(float)
    for slots in by_platform.values():
        for moment, rank in slots.items():
            totals[moment] += rank_points(rank)
    moment = max(totals, key=lambda t: (totals[t], t))
    return moment, totals[moment]


def _heat_growth(observations: Sequence[Item], now: datetime) -> float | None:
    """Heat now / heat CLIMB_SPAN ago on the platform with heat; None when not meaningful."""
    heated = [o for o in observations if o.heat and o.seen_at <= now]
    if not heated:
        return None
    latest = max(heated, key=lambda o: o.seen_at)
    earlier = [o for o in heated if o.platform == latest.platform
               and o.seen_at <= now - CLIMB_SPAN]
    if not earlier or not latest.heat:
        return None
    base = max(earlier, key=lambda o: o.seen_at).heat or 0
    growth = latest.heat / base if base else 0.0
    return growth if growth >= 1.5 else None
