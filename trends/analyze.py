"""The entry point of trends/: observations + now -> ranked topics and digest ideas.

Pure: no database, no network, no clock. Everything after ``now`` is ignored, so a replay that
feeds this function the past sees exactly what a live run would have seen.

Data flow: headlines -> stories (near-duplicates across lists) -> momentum per story (against
each list's fetches and each term's usual rate) -> topics (stories clustered by keywords) ->
relevance and safety -> ideas.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from topicscout.types import Item
from trends.ideas import pick_ideas
from trends.model import Analysis, Brand, Momentum, Story, Topic
from trends.recurring import RecurringIndex
from trends.relevance import score_relevance, score_safety
from trends.rising import (
    BASELINE_DAYS,
    BURST_SPAN,
    Context,
    build_context,
    ident,
    momentum,
    rank_points,
)
from trends.stories import group_headlines
from trends.text import Tokenizer
from trends.topics import cluster_stories

EVIDENCE_PER_TOPIC = 5
STORY_TERMS = 5
# History kept behind the window: term baselines need the same hours on previous days, and an
# old story must not look new.
HISTORY = timedelta(days=BASELINE_DAYS) + BURST_SPAN
# A topic's score: its best story's, plus this share of the others' (a topic several stories
# feed is bigger than one headline).
RELATED_SHARE = 0.3
# Only this many best stories become topics: the rest are not rising, and scoring their
# relevance and safety would cost more than everything else together.
RISING_POOL = 600


def lookback(window: timedelta) -> timedelta:
    """How much data before ``now`` :func:`analyze` uses; callers load exactly this much."""
    return window + HISTORY


@dataclass(frozen=True)
class Headline:
    """One distinct headline (item) with every observation of it."""

    id: str
    title: str  # its latest wording
    platform: str
    first_seen: datetime
    observations: tuple[Item, ...]  # oldest first


def headlines(observations: Sequence[Item]) -> list[Headline]:
    by_id: dict[str, list[Item]] = defaultdict(list)
    for item in sorted(observations, key=lambda o: o.seen_at):
        by_id[ident(item)].append(item)
    out = [Headline(id=i, title=obs[-1].title, platform=obs[0].platform,
                    first_seen=obs[0].seen_at, observations=tuple(obs))
           for i, obs in by_id.items()]
    out.sort(key=lambda h: (h.first_seen, h.id))
    return out


def stories_of(heads: Sequence[Headline], tokenizer: Tokenizer) -> list[Story]:
    """Group headlines into stories (near-duplicates across platforms together)."""
    tokens = [tokenizer.tokens(h.title) for h in heads]
    labels = group_headlines([h.title for h in heads], tokens,
                             times=[h.first_seen.timestamp() for h in heads],
                             names=[tokenizer.names(h.title) for h in heads])
    idf = _idf(tokens)
    members: dict[int, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        members[label].append(index)
    return [_story([heads[i] for i in m], [tokens[i] for i in m], idf) for m in members.values()]


def _idf(tokens: Sequence[Sequence[str]]) -> dict[str, float]:
    df = Counter(t for tok in tokens for t in set(tok))
    n = len(tokens) + 1
    return {t: math.log(n / (c + 1)) + 1 for t, c in df.items()}


def _story(heads: list[Headline], tokens: list[Sequence[str]], idf: Mapping[str, float]) -> Story:
    best = max(range(len(heads)), key=lambda i: (
        len(heads[i].observations), max(rank_points(o.rank) for o in heads[i].observations)))
    counts = Counter(t for tok in tokens for t in set(tok))
    terms = sorted(counts, key=lambda t: (-counts[t] * idf.get(t, 1.0), t))[:STORY_TERMS]
    obs = tuple(sorted((o for h in heads for o in h.observations), key=lambda o: o.seen_at))
    return Story(key=heads[0].id, title=heads[best].title, titles=tuple(h.title for h in heads),
                 observations=obs, terms=tuple(terms))


@dataclass(frozen=True)
class RankedStory:
    story: Story
    momentum: Momentum
    tokens: tuple[str, ...]  # every token of its headlines (the topic vector's words)


def rank_stories(observations: Sequence[Item], now: datetime, tokenizer: Tokenizer,
                 window: timedelta) -> tuple[list[RankedStory], Context]:
    """Every story on a list right now with its momentum, best first."""
    heads = headlines(observations)
    stories = stories_of(heads, tokenizer)
    ctx = build_context(observations, now, {h.id: tokenizer.tokens(h.title) for h in heads},
                        window, [frozenset(o.platform for o in s.observations) for s in stories])
    recurring = RecurringIndex((h.id, h.platform, h.title, h.first_seen) for h in heads)
    first_of = {h.id: h for h in heads}
    ranked = []
    for story in stories:
        is_recurring = any(recurring.is_recurring(ident(o), o.platform, o.title,
                                                  first_of[ident(o)].first_seen)
                           for o in _distinct(story.observations))
        moment = momentum(story.observations, story.terms, ctx, recurring=is_recurring)
        if moment is not None:
            words = tuple(t for title in story.titles for t in tokenizer.tokens(title))
            ranked.append(RankedStory(story, moment, words))
    ranked.sort(key=lambda r: (-r.momentum.score, r.story.key))
    return ranked, ctx


def _distinct(observations: Sequence[Item]) -> list[Item]:
    return list({ident(o): o for o in observations}.values())


def _evidence(stories: Sequence[Story]) -> tuple[Item, ...]:
    latest: dict[str, Item] = {}
    for story in stories:
        for item in story.observations:
            latest[ident(item)] = item  # observations are oldest first: the last one wins
    return tuple(sorted(latest.values(),
                        key=lambda o: (-o.seen_at.timestamp(), -rank_points(o.rank), ident(o))
                        )[:EVIDENCE_PER_TOPIC])


def make_topic(group: Sequence[RankedStory], terms: tuple[str, ...], brand: Brand,
               tokenizer: Tokenizer) -> Topic:
    lead = group[0]
    stories = [r.story for r in group]
    titles = tuple(t for s in stories for t in s.titles)
    platforms = list(lead.momentum.platforms)
    platforms += sorted({p for r in group[1:] for p in r.momentum.platforms} - set(platforms))
    score = lead.momentum.score + RELATED_SHARE * sum(r.momentum.score for r in group[1:])
    why = lead.momentum.why
    if len(group) > 1:
        why += f"; {len(group)} related stories"
        if len(platforms) > max(1, lead.momentum.breadth):
            why += f" on {len(platforms)} platforms"
    return Topic(
        key=lead.story.key, title=lead.story.title, terms=terms or lead.story.terms,
        score=round(score, 4), platforms=tuple(platforms),
        first_seen=min(r.momentum.first_seen for r in group), why=why,
        relevance=score_relevance(titles, brand, tokenizer),
        safety=score_safety(titles, brand, tokenizer), items=_evidence(stories),
        stories=tuple(s.key for s in stories), titles=titles,
        fading=lead.momentum.fading, recurring=lead.momentum.recurring,
    )


def rank_topics(observations: Sequence[Item], now: datetime, brand: Brand,
                tokenizer: Tokenizer, window: timedelta) -> list[Topic]:
    """Rising stories clustered into topics, best momentum first.

    ``observations`` are those :func:`analyze` kept: none after ``now``.
    """
    ranked, ctx = rank_stories(observations, now, tokenizer, window)
    ranked = ranked[:RISING_POOL]
    names = {n for r in ranked for title in r.story.titles for n in tokenizer.names(title)}
    groups, labels = cluster_stories([r.tokens for r in ranked], ctx.bursts, names=names)
    topics = [make_topic([ranked[i] for i in g], terms, brand, tokenizer)
              for g, terms in zip(groups, labels, strict=True)]
    topics.sort(key=lambda t: (-t.score, t.key))
    return topics


def analyze(observations: Sequence[Item], now: datetime, brand: Brand, *,
            tokenizer: Tokenizer | None = None, window: timedelta = timedelta(hours=24),
            limit: int = 10, suggested: Mapping[str, float] | None = None) -> Analysis:
    """Rank what is rising as of ``now`` from observations in ``(now - lookback(window), now]``.

    ``suggested`` maps story keys already put in earlier digests to the score they had, so an
    idea is not repeated unless it has new momentum.
    """
    if tokenizer is None:  # (a fresh Tokenizer is falsy: it has a length, 0)
        tokenizer = Tokenizer(brand.keywords + brand.related)
    recent = [o for o in observations if now - lookback(window) < o.seen_at <= now]
    topics = rank_topics(recent, now, brand, tokenizer, window)
    return Analysis(now=now, topics=tuple(topics),
                    ideas=pick_ideas(topics, limit, suggested or {}))
