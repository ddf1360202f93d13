"""Ideas: which topics go into the digest, in which order, with which angle.

Brand matches and safe general breakouts (借势) share the digest; risky topics are never
suggested, but a few are listed as "watch, do not ride". A topic suggested in an earlier digest
comes back only with new momentum.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from trends.model import Idea, Topic

# An idea already suggested comes back only when its score beats the old one by this factor.
RESUGGEST_GAIN = 1.5
# At most this many risky topics are listed as "watch, do not ride".
WATCH_SLOTS = 2
# Relevance lifts a topic's rank in the digest: score × (1 + BRAND_BOOST × relevance).
BRAND_BOOST = 1.0


def is_fresh(topic: Topic, suggested: Mapping[str, float]) -> bool:
    """Not suggested before (under any of its stories' keys), or with new momentum since."""
    before = [suggested[k] for k in (topic.key, *topic.stories) if k in suggested]
    return not before or topic.score >= RESUGGEST_GAIN * max(before)


def is_candidate(topic: Topic) -> bool:
    """Worth a slot at all: not excluded for the brand, not a recurring column, not fading."""
    return not (topic.relevance.excluded or topic.recurring or topic.fading)


def brand_score(topic: Topic) -> float:
    return topic.score * (1 + BRAND_BOOST * topic.relevance.score)


def pick_ideas(topics: Sequence[Topic], limit: int,
               suggested: Mapping[str, float]) -> tuple[Idea, ...]:
    """Brand matches and safe breakouts, best first; then a few risky ones to watch."""
    fresh = [t for t in topics if is_candidate(t) and is_fresh(t, suggested)]
    safe = sorted((t for t in fresh if not t.safety.risky), key=lambda t: (-brand_score(t), t.key))
    ideas = [Idea(t, "brand" if t.relevance.score > 0 else "breakout") for t in safe[:limit]]
    watch = [Idea(t, "watch") for t in fresh if t.safety.risky][:WATCH_SLOTS]
    return tuple(ideas + watch)
