"""Recurring items (daily prices, newsletters, columns) come back every day: they are not news.

A headline is recurring when an earlier day had the same column ("8点1氪丨…"), the same
headline with other numbers ("1月15日金价" / "1月16日金价"), when it is an episode of a show
("第九集：…"), or when it strings several stories together (a roundup belongs to none of them).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from trends.stories import is_roundup
from trends.text import normalize, series_name

# An earlier sighting counts as "another day" when it is at least this much older.
ANOTHER_DAY = timedelta(hours=20)
_DIGITS = re.compile(r"[\d.,:：%]+")
# An episode of a show or a series ("第九集：…", "…《海市蜃楼》第六期"): it comes back every week,
# which a few days of history cannot see, so its title gives it away. Only at either end of
# the title: "生命树收视率第二集就断崖跌" is news about a show, not an episode of it.
_NUMBER = r"第[\d一二三四五六七八九十百]+[期集]"
_EPISODE = re.compile(rf"^(?:《[^》]*》)?\s*{_NUMBER}|{_NUMBER}[?？!！。…]*$")


def is_episode(title: str) -> bool:
    return bool(_EPISODE.search(normalize(title)))


def skeleton(title: str) -> str:
    """The headline with its numbers blanked: what a daily price or a weekly show keeps."""
    return _DIGITS.sub("#", normalize(title).casefold())


def _keys(platform: str, title: str) -> list[tuple[str, str]]:
    """What a recurring headline keeps from day to day on one list."""
    keys = []
    name = series_name(title)
    if name:
        keys.append((platform, "series:" + name))
    shape = skeleton(title)
    if "#" in shape:  # only headlines with numbers: the same words on another day is a story
        keys.append((platform, "shape:" + shape))
    return keys


class RecurringIndex:
    """When each column and each headline shape (its numbers blanked) was first seen on each
    list, to ask "seen before?"."""

    def __init__(self, titles: Iterable[tuple[str, str, str, datetime]]) -> None:
        """``titles``: (item id, platform, title, first seen) of every headline in the data."""
        self._seen: dict[tuple[str, str], list[tuple[datetime, str]]] = defaultdict(list)
        for item_id, platform, title, first in titles:
            for key in _keys(platform, title):
                self._seen[key].append((first, item_id))

    def is_recurring(self, item_id: str, platform: str, title: str,
                     first_seen: datetime) -> bool:
        """Was this column, or this headline with other numbers, on this list another day?"""
        if is_roundup(title) or is_episode(title):
            return True
        return any(self._seen_before(self._seen.get(key, []), item_id, first_seen)
                   for key in _keys(platform, title))

    @staticmethod
    def _seen_before(sightings: list[tuple[datetime, str]], item_id: str,
                     first_seen: datetime) -> bool:
        return any(other != item_id and when <= first_seen - ANOTHER_DAY
                   for when, other in sightings)
