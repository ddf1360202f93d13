"""The frozen types trends/ hands to the rest of the app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from topicscout.types import Item


@dataclass(frozen=True)
class Brand:
    """What the team cares about; built from config ``[brand]`` (plus keywords added in chat)."""

    name: str = "our brand"  # shown in the digest header
    keywords: tuple[str, ...] = ()  # the brand and its products: strongest relevance signal
    related: tuple[str, ...] = ()  # the field the brand plays in: weaker relevance signal
    exclude: tuple[str, ...] = ()  # a story mentioning one of these is dropped for this brand
    avoid: tuple[str, ...] = ()  # brand-safety words on top of the built-in list


@dataclass(frozen=True)
class Story:
    """Headlines about one event, possibly on several platforms, with their observations."""

    key: str  # stable id: the item id of its earliest-seen headline
    title: str  # the representative headline (best-ranked, most seen)
    titles: tuple[str, ...]  # every distinct headline grouped into it
    observations: tuple[Item, ...]  # every snapshot of its items up to `now`, oldest first
    terms: tuple[str, ...]  # its most characteristic tokens


@dataclass(frozen=True)
class Momentum:
    """Why a story is rising, in numbers; `score` orders the digest."""

    score: float  # higher is more worth posting about now
    first_seen: datetime  # earliest observation on any platform
    platforms: tuple[str, ...]  # where it is now, best rank first
    why: str  # the numbers in words, e.g. "weibo #35→#3 in 4 h, now on 3 platforms"
    fading: bool  # peaked long ago and losing ground
    recurring: bool = False  # a daily price, a weekly show, a newsletter: not news
    breadth: int = 0  # how many lists it is on now
    burst: float = 1.0  # its terms' rate now / at this hour on previous days


@dataclass(frozen=True)
class Relevance:
    score: float  # 0 = unrelated, 1 = names the brand
    matched: tuple[str, ...]  # keywords / related words found
    excluded: bool  # mentions an excluded word: not for this brand
    reason: str  # "matched 英伟达 in «…»" for people


@dataclass(frozen=True)
class Safety:
    risky: bool  # never suggest riding it; may be listed as "watch"
    flags: tuple[str, ...]  # the words that made it risky

    @property
    def label(self) -> str:
        return "risky" if self.risky else "ok"


@dataclass(frozen=True)
class Topic:
    """A cluster of rising stories sharing their keywords, as shown by `trends`.

    ``key``, ``title`` and ``why`` are those of its best story; ``terms`` label the cluster.
    """

    key: str
    title: str
    terms: tuple[str, ...]
    score: float
    platforms: tuple[str, ...]
    first_seen: datetime
    why: str
    relevance: Relevance
    safety: Safety
    items: tuple[Item, ...]  # evidence: the latest observation of each headline, best first
    stories: tuple[str, ...] = ()  # keys of the stories it gathers, best first
    titles: tuple[str, ...] = ()  # every headline of those stories
    fading: bool = False  # its best moment is long past
    recurring: bool = False  # a column or daily item that comes back every day


@dataclass(frozen=True)
class Idea:
    """One digest entry: a topic worth posting about, and the angle to take."""

    topic: Topic
    angle: str  # "brand" (matches the brand), "breakout" (借势: big, safe), "watch" (risky)

    @property
    def key(self) -> str:
        return self.topic.key


@dataclass(frozen=True)
class Analysis:
    """Everything one run of the pipeline found as of `now`."""

    now: datetime
    topics: tuple[Topic, ...]  # ranked rising topics
    ideas: tuple[Idea, ...]  # the digest: brand matches and safe breakouts, then "watch"
