"""Title normalisation and tokenisation (jieba for Chinese, whole words for English).

Tokens of a title never change, so :class:`Tokenizer` caches them per title; that cache is what
makes replaying a month of snapshots cheap.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache
from importlib import resources
from typing import TypeVar

import jieba

T = TypeVar("T")

# Badges platforms glue onto a title ("… 热", "…[新]"): only when set apart by a bracket or a
# space, so "天气热" keeps its last character.
_BADGE = re.compile(r"\s+(?:新|热|爆|沸|荐|独家|置顶|直播|视频)\s*$"
                    r"|[（(\[【](?:新|热|爆|沸|荐|独家|置顶|直播|视频|图|组图)[）)\]】]\s*$")
# Outlet or category tags in 【】 at either end: "【独家】…", "…【图】".
_BRACKET_TAG = re.compile(r"^\s*【[^】]{1,12}】|【[^】]{1,12}】\s*$")
# Column or outlet names behind a bar: "… | 36氪", "…｜最前线", "8点1氪丨…".
_BARS = "|｜丨"
_SUFFIX_MAX = 8  # "｜最前线", "| 36氪": short text after the last bar is an outlet, not news
_PREFIX_MAX = 6  # "8点1氪丨": short text before the first bar is a column name
_INVISIBLE = re.compile("[\u200b-\u200f\u2060\ufeff\u00ad]")
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff"
                    "\ufe0e\ufe0f\u20e3\U000e0000-\U000e007f]")
_SPACES = re.compile(r"\s+")
_LETTER = re.compile("[^\\W\\d_]")
_CJK = re.compile(r"[\u3400-\u9fff]")
_WORDISH = re.compile(r"[^\W_]")
# Latin words stay whole, with their versions and joints: gpt-5, c++, iphone17, 3.5.
_LATIN = re.compile(r"[a-z0-9](?:[a-z0-9]|[.\-+_&'](?=[a-z0-9])|\+(?!\w))*\+*", re.IGNORECASE)
# Numbers, dates and times carry no topic on their own: 2026, 1月, 15日, 3.5%, 10:00, 第3.
_NUMBERISH = re.compile(r"^第?[\d.,:%/\-]+(?:年|月|日|号|点|时|分|秒|天|周|岁|万|亿|元|个|次|名|人|"
                        r"届|期|集|季|后|米|km|kg|%)?$", re.IGNORECASE)


def _split_bars(text: str) -> str:
    """Drop a short column name before the first bar and an outlet name after the last."""
    parts = [p.strip() for p in re.split(f"[{_BARS}]", text)]
    if len(parts) < 2:
        return text
    if len(parts[-1]) <= _SUFFIX_MAX and len(" ".join(parts[:-1])) > len(parts[-1]):
        parts = parts[:-1]
    if len(parts) > 1 and len(parts[0]) <= _PREFIX_MAX \
            and len(" ".join(parts[1:])) > _PREFIX_MAX:
        parts = parts[1:]
    return " | ".join(parts)


def _normalize_once(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", _EMOJI.sub(" ", text)).replace("#", " ")
    text = _SPACES.sub(" ", text).strip()
    text = _split_bars(_BADGE.sub("", _BRACKET_TAG.sub("", text)))
    return _SPACES.sub(" ", text).strip()


@lru_cache(maxsize=1 << 16)
def normalize(title: str) -> str:
    """NFKC (full→half width), no #tag# marks, badges, outlet tags, emoji; idempotent.

    Each pass only removes text (or NFKC-folds it), so repeating until nothing changes
    terminates and makes ``normalize(normalize(t)) == normalize(t)`` hold by construction.
    """
    text = title
    for _ in range(20):
        again = _normalize_once(text)
        if again == text:
            return text
        text = again
    return text


def series_name(title: str) -> str | None:
    """The column a title belongs to ("8点1氪" in "8点1氪丨…"), or None.

    A column repeats every day with new content: the recurring-item check needs its name.
    """
    parts = re.split(f"[{_BARS}]", unicodedata.normalize("NFKC", title), maxsplit=1)
    if len(parts) == 2 and 0 < len(parts[0].strip()) <= _PREFIX_MAX \
            and len(parts[1].strip()) > _PREFIX_MAX:
        return parts[0].strip().casefold()
    return None


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    text = resources.files("trends").joinpath("data/stopwords.txt").read_text(encoding="utf-8")
    return frozenset(w.strip().casefold() for w in text.splitlines()
                     if w.strip() and not w.startswith("#"))


def is_useful_token(token: str) -> bool:
    """A token that can name a topic: no stop-word, number, date, punctuation or lone char."""
    token = token.strip()
    if len(token) < 2 or token.casefold() in stopwords() or _NUMBERISH.match(token):
        return False
    return bool(_WORDISH.search(token))


def _whole(word: str) -> str:
    """A regex for a user word that never matches inside a longer Latin word."""
    head = r"(?<![a-z0-9])" if re.match("[A-Za-z0-9]", word) else ""
    tail = r"(?![a-z0-9])" if re.search("[A-Za-z0-9]$", word) else ""
    return head + re.escape(word) + tail


# Bump when normalisation or cutting rules change: stored tokens are then recomputed.
TOKENS_VERSION = "1"
_NAME_MARK = "*"


def encode_tokens(tokens: tuple[str, ...], names: frozenset[str]) -> str:
    """Tokens as one line of text, names marked: what the store keeps per title."""
    return " ".join(_NAME_MARK + t if t in names else t for t in tokens)


def decode_tokens(text: str) -> tuple[tuple[str, ...], frozenset[str]]:
    words = text.split()
    tokens = tuple(w.removeprefix(_NAME_MARK) for w in words)
    return tokens, frozenset(w[1:] for w in words if w.startswith(_NAME_MARK))


class Tokenizer:
    """jieba with the brand's words as a user dictionary, plus a per-title cache.

    English (Latin) runs are cut by a regex, not by jieba, so "GPT-5" stays one token and
    "mac" never matches inside "machine"; user words are never split, whatever their script.
    """

    def __init__(self, user_words: Iterable[str] = ()) -> None:
        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        self._ready = False  # jieba loads its dictionary (~0.8 s) only when a title is new
        self._user_words = tuple(sorted({w.strip() for w in user_words if w.strip()}))
        # User words with Latin letters are matched before anything else ("小米SU7").
        mixed = sorted((w for w in self._user_words if re.search("[A-Za-z0-9]", w)),
                       key=len, reverse=True)
        pattern = "|".join([*(_whole(w) for w in mixed), _LATIN.pattern])
        self._atoms = re.compile(pattern, re.IGNORECASE)
        self._cache: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {}
        self._fresh: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {}
        self._facts: dict[tuple[str, str], object] = {}

    @property
    def user_words(self) -> tuple[str, ...]:
        return self._user_words

    @property
    def signature(self) -> str:
        """Changes whenever tokens could: other user words, stop-words or rules version."""
        text = "\x1f".join((TOKENS_VERSION, *self._user_words, *sorted(stopwords())))
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()

    def tokens(self, title: str) -> tuple[str, ...]:
        """Lower-cased useful tokens of a title, in order; cached."""
        return self._entry(title)[0]

    def names(self, title: str) -> frozenset[str]:
        """The title's tokens the dictionary lacks: mostly names of people, teams, products."""
        return self._entry(title)[1]

    def _entry(self, title: str) -> tuple[tuple[str, ...], frozenset[str]]:
        cached = self._cache.get(title)
        if cached is None:
            self._ensure_ready()
            words = self._cut(normalize(title).casefold())
            tokens = tuple(w for w in words
                           if is_useful_token(w) and not w.startswith(_NAME_MARK))
            cached = (tokens, frozenset(t for t in tokens if self.is_new_word(t)))
            self._cache[title] = self._fresh[title] = cached
        return cached

    @property
    def dictionary_loaded(self) -> bool:
        """Whether jieba's dictionary had to be loaded (it is not while every title is known)."""
        return self._ready

    def knows(self, title: str) -> bool:
        return title in self._cache

    def preload(self, entries: dict[str, str]) -> None:
        """Tokens computed earlier (as :meth:`take_fresh` encoded them), for the same signature."""
        for title, text in entries.items():
            self._cache[title] = decode_tokens(text)

    def take_fresh(self) -> dict[str, str]:
        """Titles tokenized since the last call, encoded for storage; forgets them."""
        fresh = {title: encode_tokens(*entry) for title, entry in self._fresh.items()}
        self._fresh = {}
        return fresh

    def _ensure_ready(self) -> None:
        if self._ready:
            return
        for word in self._user_words:
            # A high frequency keeps multi-character brand names whole (英伟达, not 英/伟达).
            self._jieba.add_word(word, freq=200000)
        self._jieba.check_initialized()
        self._ready = True

    def _cut(self, text: str) -> list[str]:
        out: list[str] = []
        start = 0
        for match in self._atoms.finditer(text):
            if not _LETTER.search(match.group()):
                continue  # bare numbers stay with jieba, which keeps "1000米" apart from words
            if match.start() > start:
                out += self._jieba.lcut(text[start:match.start()], HMM=True)
            out.append(match.group())
            start = match.end()
        if start < len(text):
            out += self._jieba.lcut(text[start:], HMM=True)
        return [w.strip() for w in out]

    def is_new_word(self, token: str) -> bool:
        """A Chinese token this dictionary lacks: mostly names of people, teams, products."""
        self._ensure_ready()
        return has_cjk(token) and not self._jieba.FREQ.get(token)

    def remember(self, kind: str, title: str, compute: Callable[[], T]) -> T:
        """A per-title fact derived from its tokens (safety flags, brand matches), cached too."""
        key = (kind, title)
        if key not in self._facts:
            self._facts[key] = compute()
        return self._facts[key]  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self._cache)


@lru_cache(maxsize=1)
def _dictionary() -> dict[str, int]:
    jieba.setLogLevel(logging.WARNING)
    jieba.dt.check_initialized()
    return jieba.dt.FREQ


def is_new_word(token: str) -> bool:
    """A Chinese token jieba's dictionary lacks: mostly names of people, teams, products."""
    return has_cjk(token) and not _dictionary().get(token)


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def char_ngrams(text: str, n: int = 2) -> list[str]:
    """Character n-grams of a normalised title without spaces (Chinese needs no segmenter)."""
    compact = "".join(ch for ch in normalize(text).casefold() if _WORDISH.match(ch))
    if len(compact) < n:
        return [compact] if compact else []
    return [compact[i:i + n] for i in range(len(compact) - n + 1)]
