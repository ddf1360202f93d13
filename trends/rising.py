"""Momentum: is a story climbing now, or merely hot? Pure, causal functions of observations.

Everything here looks only at observations with ``seen_at <= now``; :class:`Context` holds what
all stories are measured against (each list's fetch times, each term's burst), built once per
analysis by :func:`build_context`.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from topicscout.types import Item, item_id
from trends.model import Momentum

# How far back "where was it before?" looks: long enough for a climb, short enough to be news.
CLIMB_SPAN = timedelta(hours=6)
# A story whose best moment is older than this and that has lost ground is fading.
PEAK_STALE = timedelta(hours=12)
# Age after which freshness decays, and how fast (hours).
FRESH_FOR_H = 24.0
FRESH_DECAY_H = 12.0
# How fast a slot's worth falls with its rank: #1 = 1, #4 = 4**-RANK_EXPONENT.
RANK_EXPONENT = 0.8
# Points for an unranked entry (feeds), comparable to a mid-list hot-list slot.
UNRANKED_POINTS = 0.3
# Term bursts compare the last BURST_SPAN with the same hours on BASELINE_DAYS previous days.
BURST_SPAN = timedelta(hours=6)
BASELINE_DAYS = 3
# A term in fewer recent headlines than this cannot burst (one headline is not a trend).
BURST_MIN_RECENT = 2
BURST_CAP = 8.0
# Score weights: climbing and spreading count more than being high on a list.
W_PRESENCE = 0.5
W_CLIMB = 1.0
W_NEW = 1.0  # rank points on lists the story entered within CLIMB_SPAN
W_BREADTH = 3.0  # per platform beyond the first
W_SPREAD = 0.4  # per platform gained within CLIMB_SPAN
W_BURST = 0.7  # per doubling of its terms' rate over the baseline
FADING_FACTOR = 0.25
# Smoothing of a list's spread rate, and the least weight a list keeps.
SPREAD_PRIOR = 10
MIN_WEIGHT = 0.1
RECURRING_FACTOR = 0.05

PLATFORM_NAMES = {
    "weibo": "微博", "baidu": "百度", "zhihu": "知乎", "36kr": "36氪", "bilibili": "B站",
    "bilibili-hot-search": "B站热搜", "douyin": "抖音", "toutiao": "头条", "thepaper": "澎湃",
    "tieba": "贴吧", "ifeng": "凤凰", "cls-hot": "财联社", "wallstreetcn-hot": "华尔街见闻",
}


@lru_cache(maxsize=1 << 17)
def _cached_id(platform: str, title: str, guid: str | None) -> str:
    return item_id(platform, title, guid)


def ident(item: Item) -> str:
    """``item.id``, memoised: a month of replays asks for the same ids millions of times."""
    return _cached_id(item.platform, item.title, item.guid)


def rank_points(rank: int | None) -> float:
    """#1 = 1.0, #4 = 0.5, #25 = 0.2: the top of a list matters far more than its tail."""
    return UNRANKED_POINTS if rank is None else max(rank, 1) ** -RANK_EXPONENT


def platform_name(platform: str) -> str:
    return PLATFORM_NAMES.get(platform, platform)


@dataclass(frozen=True)
class Context:
    """What every story is measured against at ``now``."""

    now: datetime
    fetches: Mapping[str, Sequence[datetime]]  # platform -> its fetch times <= now, sorted
    bursts: Mapping[str, float]  # term -> recent rate / baseline rate (>= 1 only)
    weights: Mapping[str, float] = field(default_factory=dict)  # platform -> its spread rate

    def weight(self, platform: str) -> float:
        return self.weights.get(platform, 1.0)

    def fetch_at(self, platform: str, moment: datetime) -> datetime | None:
        """The platform's last fetch at or before ``moment``."""
        times = self.fetches.get(platform, ())
        index = bisect.bisect_right(times, moment)
        return times[index - 1] if index else None

    def latest(self, platform: str) -> datetime | None:
        times = self.fetches.get(platform, ())
        return times[-1] if times else None


def build_context(observations: Sequence[Item], now: datetime,
                  tokens_of: Mapping[str, Sequence[str]], window: timedelta,
                  story_platforms: Sequence[frozenset[str]] = ()) -> Context:
    """Fetch times per list, term bursts and list weights, from observations up to ``now``."""
    fetches: dict[str, set[datetime]] = defaultdict(set)
    for item in observations:
        if item.seen_at <= now:
            fetches[item.platform].add(item.seen_at)
    # A list not fetched within the window says nothing about now.
    live = {p: sorted(t) for p, t in fetches.items() if max(t) > now - window}
    return Context(now=now, fetches=live, bursts=term_bursts(observations, now, tokens_of),
                   weights=platform_weights(story_platforms))


def platform_weights(story_platforms: Sequence[frozenset[str]]) -> dict[str, float]:
    """platform -> how often its stories are on another list too, relative to the best list.

    Learnt from the data at hand (so causal): a list whose entries never spread (video
    rankings, one outlet's articles) says less about what the public is picking up.
    """
    total: dict[str, int] = defaultdict(int)
    shared: dict[str, int] = defaultdict(int)
    for platforms in story_platforms:
        for platform in platforms:
            total[platform] += 1
            shared[platform] += len(platforms) > 1
    rate = {p: (shared[p] + 1) / (total[p] + SPREAD_PRIOR) for p in total}
    best = max(rate.values(), default=1.0)
    return {p: max(MIN_WEIGHT, r / best) for p, r in rate.items()}


def term_bursts(observations: Sequence[Item], now: datetime,
                tokens_of: Mapping[str, Sequence[str]]) -> dict[str, float]:
    """term -> how many times more headlines carry it now than at this hour on previous days.

    Counting distinct headlines seen in the same hours of earlier days keeps the daily rhythm
    (mornings are busy) and evergreen terms (春晚 for a month) from reading as rising.
    """
    seen: dict[int, set[str]] = defaultdict(set)  # day offset -> item ids seen in that slot
    for item in observations:
        if item.seen_at > now:
            continue
        back = now - item.seen_at
        day, rest = divmod(back, timedelta(days=1))
        if rest <= BURST_SPAN and day <= BASELINE_DAYS:
            seen[day].add(ident(item))
    recent = _term_counts(seen.get(0, set()), tokens_of)
    baseline: dict[str, float] = defaultdict(float)
    days = [d for d in range(1, BASELINE_DAYS + 1) if d in seen]
    for day in days:
        for term, count in _term_counts(seen[day], tokens_of).items():
            baseline[term] += count / len(days)
    if not days:  # no history yet: nothing can be told apart from the daily rhythm
        return {}
    return {term: min(BURST_CAP, (count + 1) / (baseline.get(term, 0.0) + 1))
            for term, count in recent.items() if count >= BURST_MIN_RECENT}


def _term_counts(ids: set[str], tokens_of: Mapping[str, Sequence[str]]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for key in ids:
        for term in set(tokens_of.get(key, ())):
            counts[term] += 1
    return counts


Ranks = dict[str, dict[datetime, int | None]]


def _ranks(observations: Sequence[Item], now: datetime) -> Ranks:
    """platform -> fetch time -> best organic rank the story had in that fetch."""
    out: dict[str, dict[datetime, int | None]] = defaultdict(dict)
    for item in observations:
        if item.pinned or item.seen_at > now:
            continue
        slots = out[item.platform]
        best = slots.get(item.seen_at)
        if item.seen_at not in slots or (item.rank is not None
                                         and (best is None or item.rank < best)):
            slots[item.seen_at] = item.rank
    return out


def _points_at(ranks: dict[datetime, int | None], ctx: Context, platform: str,
               moment: datetime) -> float:
    fetch = ctx.fetch_at(platform, moment)
    if fetch is None or fetch not in ranks:
        return 0.0
    return rank_points(ranks[fetch])


@dataclass(frozen=True)
class Signals:
    """The numbers behind a story's momentum (kept apart so tests can check each one)."""

    presence: float  # rank points now, summed over lists
    climb: float  # rank points gained within CLIMB_SPAN
    new: float  # rank points on lists it entered within CLIMB_SPAN
    breadth: int  # lists it is on now
    spread: int  # lists gained within CLIMB_SPAN
    burst: float  # best burst of its terms (1 = at baseline)
    peak_at: datetime  # when its summed rank points were highest
    peak: float


def signals(observations: Sequence[Item], terms: Sequence[str], ctx: Context,
            by_platform: Ranks | None = None) -> Signals | None:
    """The story's signals at ``ctx.now``; None when it is on no list right now."""
    if by_platform is None:
        by_platform = _ranks(observations, ctx.now)
    before = ctx.now - CLIMB_SPAN
    presence = climb = new = 0.0
    breadth = breadth_before = 0
    for platform, ranks in by_platform.items():
        points = _points_at(ranks, ctx, platform, ctx.now) \
            if ctx.latest(platform) in ranks else 0.0
        earlier = _points_at(ranks, ctx, platform, before)
        breadth_before += earlier > 0
        if points == 0:
            continue
        weight = ctx.weight(platform)
        breadth += 1
        presence += weight * points
        climb += weight * max(0.0, points - earlier)
        new += weight * points * (min(ranks) > before)
    if breadth == 0:
        return None
    peak_at, peak = _peak(by_platform)
    burst = max((ctx.bursts.get(t, 1.0) for t in terms), default=1.0)
    return Signals(presence=presence, climb=climb, new=new, breadth=breadth,
                   spread=max(0, breadth - breadth_before), burst=max(1.0, burst),
                   peak_at=peak_at, peak=peak)


def _peak(by_platform: Ranks) -> tuple[datetime, float]:
    totals: dict[datetime, float] = defaultdict(float)
    for ranks in by_platform.values():
        for moment, rank in ranks.items():
            totals[moment] += rank_points(rank)
    moment = max(totals, key=lambda t: (totals[t], t))
    return moment, totals[moment]


def is_fading(sig: Signals, now: datetime) -> bool:
    """Peaked more than PEAK_STALE ago and has since lost ground."""
    return now - sig.peak_at > PEAK_STALE and sig.presence < 0.6 * sig.peak


def score_signals(sig: Signals, first_seen: datetime, now: datetime, recurring: bool) -> float:
    """One number ordering stories: climbing, spreading, bursting, fresh; never recurring."""
    age_h = (now - first_seen).total_seconds() / 3600
    freshness = 1.0 if age_h <= FRESH_FOR_H else math.exp(-(age_h - FRESH_FOR_H) / FRESH_DECAY_H)
    base = W_PRESENCE * sig.presence + W_CLIMB * sig.climb + W_NEW * sig.new
    spread = 1 + W_BREADTH * (sig.breadth - 1) + W_SPREAD * sig.spread
    burst = 1 + W_BURST * math.log2(sig.burst)
    score = base * spread * burst * freshness
    if is_fading(sig, now):
        score *= FADING_FACTOR
    if recurring:
        score *= RECURRING_FACTOR
    return score


def momentum(observations: Sequence[Item], terms: Sequence[str], ctx: Context,
             recurring: bool = False) -> Momentum | None:
    """Momentum of one story as of ``ctx.now``; None when it is on no list right now."""
    past = [o for o in observations if o.seen_at <= ctx.now]
    by_platform = _ranks(past, ctx.now)
    sig = signals(past, terms, ctx, by_platform) if past else None
    if sig is None:
        return None
    first_seen = min(o.seen_at for o in past)
    score = score_signals(sig, first_seen, ctx.now, recurring)
    return Momentum(score=score, first_seen=first_seen, platforms=_platforms(by_platform, ctx),
                    why=describe(past, by_platform, sig, ctx), fading=is_fading(sig, ctx.now),
                    recurring=recurring, breadth=sig.breadth, burst=round(sig.burst, 2))


def _platforms(by_platform: Ranks, ctx: Context) -> tuple[str, ...]:
    """The lists it is on now, best rank first."""
    now_points = {}
    for platform, ranks in by_platform.items():
        latest = ctx.latest(platform)
        if latest is not None and latest in ranks:
            now_points[platform] = rank_points(ranks[latest])
    return tuple(sorted(now_points, key=lambda p: -now_points[p]))


def describe(past: Sequence[Item], by_platform: Ranks, sig: Signals, ctx: Context) -> str:
    """The numbers in words: "微博 #35→#3 in 4 h; now on 3 platforms; heat ×4"."""
    phrases = []
    for platform in _platforms(by_platform, ctx)[:3]:
        phrases.append(_describe_list(platform, by_platform[platform], ctx))
    if sig.breadth > 1:
        gained = f" (+{sig.spread} in {_ago(CLIMB_SPAN)})" if sig.spread else ""
        phrases.append(f"now on {sig.breadth} platforms{gained}")
    heat = heat_growth(past, ctx.now)
    if heat:
        phrases.append(f"heat ×{heat:.1f}")
    if sig.burst >= 2:
        phrases.append(f"its words ×{sig.burst:.0f} vs. usual")
    return "; ".join(phrases)


def _describe_list(platform: str, ranks: dict[datetime, int | None], ctx: Context) -> str:
    name = platform_name(platform)
    now_at = ctx.latest(platform)
    rank = ranks.get(now_at) if now_at is not None else None
    recent = sorted(t for t in ranks if t >= ctx.now - CLIMB_SPAN)
    first = min(ranks)
    if rank is None:
        return f"{name}: listed {_ago(ctx.now - first)} ago"
    if first >= ctx.now - CLIMB_SPAN:
        entry = ranks[first]
        if entry is not None and entry != rank:
            return f"{name} #{entry}→#{rank} in {_ago(ctx.now - first)} (new)"
        return f"{name}: new at #{rank} ({_ago(ctx.now - first)} ago)"
    worst_at = max(recent, key=lambda t: (ranks[t] or 0, -t.timestamp()), default=None)
    worst = ranks[worst_at] if worst_at is not None else None
    if worst_at is not None and worst is not None and worst > rank:
        return f"{name} #{worst}→#{rank} in {_ago(ctx.now - worst_at)}"
    return f"{name} #{rank} for {_ago(ctx.now - first)}"


def _ago(span: timedelta) -> str:
    """ "40 min" under an hour (an item seen minutes ago is not "1 h" old), else "5 h"."""
    minutes = round(span.total_seconds() / 60)
    if minutes < 60:
        return f"{max(1, minutes)} min"
    return f"{round(minutes / 60)} h"


def heat_growth(observations: Sequence[Item], now: datetime) -> float | None:
    """Heat now / heat CLIMB_SPAN ago (or at first sighting) on one list; None if small."""
    best: float | None = None
    by_platform: dict[str, list[Item]] = defaultdict(list)
    for item in observations:
        if item.heat and item.seen_at <= now:
            by_platform[item.platform].append(item)
    for items in by_platform.values():
        items.sort(key=lambda o: o.seen_at)
        latest = items[-1]
        earlier = [o for o in items if o.seen_at >= now - CLIMB_SPAN] or items
        base = earlier[0].heat or 0
        if base and latest.heat and latest is not earlier[0]:
            growth = latest.heat / base
            best = growth if best is None else max(best, growth)
    return best if best is not None and best >= 1.5 else None
