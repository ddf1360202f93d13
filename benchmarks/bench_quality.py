"""Quality of the rising-topic detector against a "hot, not rising" baseline, on real corpus data.

Reference events are built from the data with a representation the detector does not use:
headlines that reached the top 10 of a list are normalised crudely (NFKC, letters and digits
only) and linked when equal or when their character-bigram sets have Jaccard >= 0.5 (short
hot-search queries: when one is contained in the other). An event is a linked group that was in
the top 10 of >= 2 platforms within 24 h.

Each day at 09:30 (+08:00) both the detector (fed only the past, with a neutral brand) and the
TrendRadar weight (per title over the last 24 h: 0.6·mean(11−min(rank,10)) +
0.3·min(count,10)·10 + 0.1·100·share(rank≤5)) pick 10 ideas. Figures:

- precision@10: ideas that are (or later become) an event that had not peaked > 12 h before;
- recall@10: events (second platform within the replay) suggested while alive;
- duplicate rate: ideas in a digest that repeat another idea's event or headline;
- early: events suggested before they appeared on their second platform (of all events, and
  of the events recalled).

Usage: python benchmarks/bench_quality.py [FOLDER ...]   (default: 2026-01 2025-11)
Tuned on 2026-01; 2025-11 is the check on data not tuned on.
"""

from __future__ import annotations

import bisect
import re
import sys
import time
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from topicscout.snapshots import read_snapshot_file  # noqa: E402
from topicscout.types import Item  # noqa: E402
from trends.analyze import analyze, lookback  # noqa: E402
from trends.model import Brand  # noqa: E402
from trends.text import Tokenizer  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
TZ = timezone(timedelta(hours=8))
DIGEST_AT = (9, 30)
SLOTS = 10
EVENT_SPAN = timedelta(hours=24)
STALE = timedelta(hours=12)
REMEMBER = timedelta(days=3)  # as the service: suggested ideas are remembered this long
JACCARD = 0.5
_WORD = re.compile(r"[^\W_]+")


# -- the reference representation (deliberately not the detector's) --------------------------

def crude(title: str) -> str:
    return "".join(_WORD.findall(unicodedata.normalize("NFKC", title).casefold()))


def bigrams(text: str) -> frozenset[str]:
    return frozenset(text[i:i + 2] for i in range(len(text) - 1)) or frozenset([text])


def same_headline(a: str, b: str, ga: frozenset[str], gb: frozenset[str]) -> bool:
    if a == b:
        return True
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) >= 4 and short in long_:
        return True
    return len(ga & gb) / len(ga | gb) >= JACCARD


@dataclass
class Event:
    titles: set[str] = field(default_factory=set)  # crude titles
    first_top: dict[str, datetime] = field(default_factory=dict)  # platform -> first top-10
    first_any: dict[str, datetime] = field(default_factory=dict)  # platform -> first sighting
    points: dict[datetime, float] = field(default_factory=lambda: defaultdict(float))

    def second(self, firsts: dict[str, datetime]) -> datetime:
        return sorted(firsts.values())[1]

    @property
    def peak(self) -> datetime:
        return max(self.points, key=lambda t: (self.points[t], t))

    @property
    def start(self) -> datetime:
        return min(self.first_any.values())


class Reference:
    """Events and a matcher from any headline to the events it belongs to."""

    def __init__(self, items: list[Item]) -> None:
        top: dict[tuple[str, str], datetime] = {}
        for it in items:
            if it.rank is not None and 1 <= it.rank <= 10 and not it.pinned:
                top.setdefault((it.platform, crude(it.title)), it.seen_at)
        keys = sorted(top, key=lambda k: top[k])
        parent = list(range(len(keys)))

        def find(a: int) -> int:
            while parent[a] != a:
                parent[a] = parent[parent[a]]
                a = parent[a]
            return a

        grams = [bigrams(k[1]) for k in keys]
        index: dict[str, list[int]] = defaultdict(list)
        for i, g in enumerate(grams):
            for gram in g:
                index[gram].append(i)
        for i, (_, title) in enumerate(keys):
            seen: set[int] = set()
            for gram in grams[i]:
                for j in index[gram]:
                    if j < i and j not in seen:
                        seen.add(j)
                        if abs(top[keys[i]] - top[keys[j]]) <= EVENT_SPAN and same_headline(
                                title, keys[j][1], grams[i], grams[j]):
                            parent[find(i)] = find(j)
        groups: dict[int, Event] = defaultdict(Event)
        self._title_event: dict[str, list[int]] = defaultdict(list)
        for i, (platform, title) in enumerate(keys):
            ev = groups[find(i)]
            ev.titles.add(title)
            ev.first_top[platform] = min(ev.first_top.get(platform, top[keys[i]]), top[keys[i]])
        members = {(p, t): root for root, ev in groups.items() for t in ev.titles
                   for p in ev.first_top}
        for it in items:
            root = members.get((it.platform, crude(it.title)))
            if root is None or it.pinned:
                continue
            ev = groups[root]
            ev.first_any[it.platform] = min(ev.first_any.get(it.platform, it.seen_at), it.seen_at)
            if it.rank is not None and it.rank <= 10:
                hour = it.seen_at.replace(minute=0, second=0, microsecond=0)
                ev.points[hour] += 11 - it.rank
        self.events = [ev for ev in groups.values() if len(ev.first_top) >= 2
                       and ev.second(ev.first_top) - min(ev.first_top.values()) <= EVENT_SPAN]
        self._grams: dict[str, list[int]] = defaultdict(list)
        self._crude = [sorted(ev.titles) for ev in self.events]
        for e, ev in enumerate(self.events):
            for title in ev.titles:
                for gram in bigrams(title):
                    self._grams[gram].append(e)

    def match(self, title: str, moment: datetime) -> set[int]:
        """Events this headline is about (and that are near ``moment``)."""
        text = crude(title)
        g = bigrams(text)
        found = set()
        for e in {e for gram in g for e in self._grams.get(gram, ())}:
            ev = self.events[e]
            if abs(ev.start - moment) > timedelta(days=2):
                continue
            if any(same_headline(text, t, g, bigrams(t)) for t in ev.titles):
                found.add(e)
        return found


# -- the two pickers ------------------------------------------------------------------------

def trendradar(items: list[Item], now: datetime) -> list[list[str]]:
    ranks: dict[str, list[int]] = defaultdict(list)
    shown: dict[str, str] = {}
    for it in items:
        if now - timedelta(hours=24) < it.seen_at <= now and it.rank and not it.pinned:
            key = crude(it.title)
            ranks[key].append(it.rank)
            shown[key] = it.title

    def weight(rs: list[int]) -> float:
        mean = sum(11 - min(r, 10) for r in rs) / len(rs)
        top5 = sum(r <= 5 for r in rs) / len(rs)
        return 0.6 * mean + 0.3 * min(len(rs), 10) * 10 + 0.1 * 100 * top5

    best = sorted(ranks, key=lambda k: (-weight(ranks[k]), k))[:SLOTS]
    return [[shown[k]] for k in best]


class Detector:
    def __init__(self, items: list[Item]) -> None:
        self.items = items
        self.times = [it.seen_at for it in items]
        self.brand = Brand(name="neutral")
        self.tokenizer = Tokenizer()
        self.suggested: list[tuple[datetime, str, float]] = []

    def __call__(self, now: datetime) -> list[list[str]]:
        lo = bisect.bisect_right(self.times, now - lookback(timedelta(hours=24)))
        hi = bisect.bisect_right(self.times, now)
        remembered: dict[str, float] = {}
        for when, key, score in self.suggested:
            if now - REMEMBER <= when < now:
                remembered[key] = max(score, remembered.get(key, 0.0))
        analysis = analyze(self.items[lo:hi], now, self.brand, tokenizer=self.tokenizer,
                           limit=SLOTS, suggested=remembered)
        ideas = [i for i in analysis.ideas if i.angle != "watch"][:SLOTS]
        for idea in ideas:
            for key in (idea.topic.key, *idea.topic.stories):
                self.suggested.append((now, key, idea.topic.score))
        return [list(dict.fromkeys((i.topic.title, *i.topic.titles))) for i in ideas]


# -- scoring --------------------------------------------------------------------------------

@dataclass
class Score:
    ideas: int = 0
    hits: int = 0
    duplicates: int = 0
    recalled: dict[int, datetime] = field(default_factory=dict)  # event -> first suggestion

    def add(self, ref: Reference, now: datetime, picks: list[list[str]]) -> None:
        seen_events: set[int] = set()
        seen_titles: set[str] = set()
        for titles in picks:
            self.ideas += 1
            events = set().union(*(ref.match(t, now) for t in titles))
            crude_titles = {crude(t) for t in titles}
            if (events & seen_events) or (crude_titles & seen_titles):
                self.duplicates += 1
            seen_events |= events
            seen_titles |= crude_titles
            alive = {e for e in events if ref.events[e].peak >= now - STALE}
            self.hits += bool(alive)
            for e in alive:
                self.recalled.setdefault(e, now)

    def figures(self, ref: Reference, in_range: list[int]) -> dict[str, float]:
        recalled = [e for e in in_range if e in self.recalled]
        early = [e for e in recalled
                 if self.recalled[e] < ref.events[e].second(ref.events[e].first_any)]
        n = max(1, len(in_range))
        return {"precision@10": self.hits / max(1, self.ideas), "recall@10": len(recalled) / n,
                "duplicate rate": self.duplicates / max(1, self.ideas),
                "early (of events)": len(early) / n,
                "early (of recalled)": len(early) / max(1, len(recalled))}


def load(folder: Path) -> list[Item]:
    bad: list[object] = []
    items = [it for path in sorted(folder.glob("*.jsonl"))
             for it in read_snapshot_file(path, bad)]  # type: ignore[arg-type]
    items.sort(key=lambda it: it.seen_at)
    return items


def digest_times(items: list[Item]) -> list[datetime]:
    first = items[0].seen_at.astimezone(TZ) + timedelta(days=1)  # one day of history first
    moment = first.replace(hour=DIGEST_AT[0], minute=DIGEST_AT[1], second=0, microsecond=0)
    out = []
    while moment <= items[-1].seen_at:
        out.append(moment)
        moment += timedelta(days=1)
    return out


def run(folder: Path) -> None:
    started = time.perf_counter()
    items = load(folder)
    ref = Reference(items)
    steps = digest_times(items)
    detector = Detector(items)
    ours, base = Score(), Score()
    for now in steps:
        ours.add(ref, now, detector(now))
        base.add(ref, now, trendradar(items[:bisect.bisect_right(detector.times, now)], now))
    in_range = [e for e, ev in enumerate(ref.events)
                if steps[0] - timedelta(hours=12) <= ev.second(ev.first_top) <= steps[-1]]
    a, b = ours.figures(ref, in_range), base.figures(ref, in_range)
    print(f"\n== {folder.name}: {len(items):,} observations, {len(steps)} digests at 09:30, "
          f"{len(in_range)} reference events in range "
          f"({time.perf_counter() - started:.0f} s)")
    print(f"{'figure':<22}{'detector':>10}{'baseline':>10}{'ratio':>8}")
    for name in a:
        ratio = a[name] / b[name] if b[name] else float("inf")
        print(f"{name:<22}{a[name]:>10.3f}{b[name]:>10.3f}{ratio:>8.2f}")
    p, q = a["precision@10"], b["precision@10"]
    print(f"targets: precision >= 3x baseline: {'met' if p >= 3 * q else 'MISSED'}; "
          f">= baseline + 0.15: {'met' if p >= q + 0.15 else 'MISSED'}; "
          f"duplicates <= 0.05: {'met' if a['duplicate rate'] <= 0.05 else 'MISSED'}; "
          f"early > baseline: "
          f"{'met' if a['early (of events)'] > b['early (of events)'] else 'MISSED'}")


def main(argv: list[str]) -> int:
    if not CORPUS.is_dir():
        print(f"skipped: no corpus at {CORPUS} (benchmarks read ../shared/corpus)")
        return 0
    for name in argv or ["2026-01", "2025-11"]:
        run(CORPUS / name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
