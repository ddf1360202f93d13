"""The entry point of trends/: observations + now -> ranked topics and digest ideas.

Pure: no database, no network, no clock. Everything after ``now`` is ignored, so a replay that
feeds this function the past sees exactly what a live run would have seen.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from topicscout.types import Item
from trends.model import Analysis, Brand, Idea, Story, Topic
from trends.relevance import score_relevance, score_safety
from trends.rising import momentum, rank_points
from trends.stories import group_headlines
from trends.text import Tokenizer

# An idea already suggested comes back only when its score beats the old one by this factor.
RESUGGEST_GAIN = 1.5
# At most this many risky stories are listed as "watch, do not ride".
WATCH_SLOTS = 2
# Relevance lifts a story's rank in the digest: score × (1 + BRAND_BOOST × relevance).
BRAND_BOOST = 1.0
EVIDENCE_PER_TOPIC = 5
# History kept behind the window so that an old story does not look new: first_seen and the
# "where was it before?" comparisons reach this far back.
HISTORY = timedelta(hours=48)


def lookback(window: timedelta) -> timedelta:
    """How much data before ``now`` :func:`analyze` uses; callers load exactly this much."""
    return window + HISTORY


def build_stories(observations: Sequence[Item], tokenizer: Tokenizer) -> list[Story]:
    """Group every headline in ``observations`` into stories (all platforms together)."""
    by_id: dict[str, list[Item]] = defaultdict(list)
    for item in observations:
        by_id[item.id].append(item)
    ids = sorted(by_id, key=lambda i: by_id[i][0].seen_at)
    titles = [by_id[i][-1].title for i in ids]
    tokens = [tokenizer.tokens(t) for t in titles]
    labels = group_headlines(titles, tokens)
    members: dict[int, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        members[label].append(index)
    stories = []
    for indexes in members.values():
        obs = sorted((o for i in indexes for o in by_id[ids[i]]), key=lambda o: o.seen_at)
        best = max(indexes, key=lambda i: (len(by_id[ids[i]]),
                                           max(rank_points(o.rank) for o in by_id[ids[i]])))
        counts = Counter(t for i in indexes for t in set(tokens[i]))
        stories.append(Story(
            key=ids[indexes[0]], title=titles[best],
            titles=tuple(titles[i] for i in indexes), observations=tuple(obs),
            terms=tuple(t for t, _ in counts.most_common(5)),
        ))
    return stories


def _evidence(story: Story) -> tuple[Item, ...]:
    latest: dict[str, Item] = {}
    for item in story.observations:
        latest[item.id] = item  # observations are oldest first: the last one wins
    return tuple(sorted(latest.values(),
                        key=lambda o: (-o.seen_at.timestamp(), -rank_points(o.rank))
                        )[:EVIDENCE_PER_TOPIC])


def latest_fetches(observations: Sequence[Item], now: datetime,
                   window: timedelta) -> dict[str, datetime]:
    """platform -> its newest fetch within the window; a list not fetched lately says nothing."""
    latest: dict[str, datetime] = {}
    for item in observations:
        if now - window < item.seen_at <= now and item.seen_at > latest.get(
                item.platform, item.seen_at - timedelta(seconds=1)):
            latest[item.platform] = item.seen_at
    return latest


def rank_topics(observations: Sequence[Item], now: datetime, brand: Brand,
                tokenizer: Tokenizer, window: timedelta) -> list[Topic]:
    """Every story that is on a list right now, as a Topic, best momentum first."""
    past = [o for o in observations if o.seen_at <= now]
    latest_fetch = latest_fetches(past, now, window)
    topics = []
    for story in build_stories(past, tokenizer):
        moment = momentum(story.observations, now, latest_fetch)
        if moment is None:
            continue
        topics.append(Topic(
            key=story.key, title=story.title, terms=story.terms, score=round(moment.score, 4),
            platforms=moment.platforms, first_seen=moment.first_seen, why=moment.why,
            relevance=score_relevance(story.titles, brand, tokenizer),
            safety=score_safety(story.titles, brand, tokenizer),
            items=_evidence(story),
        ))
    topics.sort(key=lambda t: (-t.score, t.key))
    return topics


def pick_ideas(topics: Sequence[Topic], limit: int,
               suggested: Mapping[str, float]) -> tuple[Idea, ...]:
    """Brand matches and safe breakouts, ranked; then a few risky ones to watch."""
    fresh = [t for t in topics if not t.relevance.excluded
             and (t.key not in suggested or t.score >= RESUGGEST_GAIN * suggested[t.key])]
    safe = sorted((t for t in fresh if not t.safety.risky),
                  key=lambda t: -t.score * (1 + BRAND_BOOST * t.relevance.score))
    ideas = [Idea(t, "brand" if t.relevance.score > 0 else "breakout") for t in safe[:limit]]
    watch = [Idea(t, "watch") for t in fresh if t.safety.risky][:WATCH_SLOTS]
    return tuple(ideas + watch)


def analyze(observations: Sequence[Item], now: datetime, brand: Brand, *,
            tokenizer: Tokenizer | None = None, window: timedelta = timedelta(hours=24),
            limit: int = 10, suggested: Mapping[str, float] | None = None) -> Analysis:
    """Rank what is rising as of ``now`` from observations in ``(now - lookback(window), now]``.

    ``suggested`` maps story keys already put in earlier digests to the score they had, so an
    idea is not repeated unless it has new momentum.
    """
    tokenizer = tokenizer or Tokenizer(brand.keywords + brand.related)
    recent = [o for o in observations if now - lookback(window) < o.seen_at <= now]
    topics = rank_topics(recent, now, brand, tokenizer, window)
    return Analysis(now=now, topics=tuple(topics),
                    ideas=pick_ideas(topics, limit, suggested or {}))
