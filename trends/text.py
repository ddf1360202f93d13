"""Title normalisation and tokenisation (jieba for Chinese, whole words for English).

Tokens of a title never change, so :class:`Tokenizer` caches them per title; that cache is what
makes replaying a month of snapshots cheap.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

import jieba

# Badges platforms glue onto titles, outlet tags in 【】, hashtags and emoji carry no topic.
_BADGE = re.compile(r"[\s\u3000]*[（(\[【]?(?:新|热|爆|沸|荐|独家|置顶)[）)\]】]?\s*$")
_BRACKET_TAG = re.compile(r"^【[^】]{1,12}】")
_OUTLET_SUFFIX = re.compile(r"\s*[|｜丨_\-—]\s*(?:36氪|少数派|爱范儿|ifanr|sspai|36kr)\s*$",
                            re.IGNORECASE)
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f\u200d]")
_SPACES = re.compile(r"\s+")
_CJK = re.compile(r"[\u3400-\u9fff]")
_WORDISH = re.compile(r"[\w\u3400-\u9fff]")
_NUMBER = re.compile(r"^[\d.,:%/]+$")


def normalize(title: str) -> str:
    """NFKC (full→half width), no #tags# marks, badges, outlet tags or emoji; idempotent."""
    text = unicodedata.normalize("NFKC", title)
    text = _EMOJI.sub("", text).replace("#", " ")
    for _ in range(3):  # tags can be stacked: "【独家】… 爆"
        stripped = _OUTLET_SUFFIX.sub("", _BADGE.sub("", _BRACKET_TAG.sub("", text.strip())))
        if stripped == text:
            break
        text = stripped
    text = _SPACES.sub(" ", text).strip()
    return unicodedata.normalize("NFKC", text)


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    text = resources.files("trends").joinpath("data/stopwords.txt").read_text(encoding="utf-8")
    return frozenset(w.strip().casefold() for w in text.splitlines()
                     if w.strip() and not w.startswith("#"))


def is_useful_token(token: str) -> bool:
    token = token.strip()
    if not token or token.casefold() in stopwords() or _NUMBER.match(token):
        return False
    if not _WORDISH.search(token):
        return False
    # A lone Chinese character is almost never a topic; a lone Latin letter never is.
    return len(token) >= 2


class Tokenizer:
    """jieba with the brand's words as a user dictionary, plus a per-title cache."""

    def __init__(self, user_words: Iterable[str] = ()) -> None:
        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        self._user_words = tuple(sorted({w.strip() for w in user_words if w.strip()}))
        for word in self._user_words:
            # A high frequency keeps multi-character brand names whole (英伟达, not 英/伟达).
            self._jieba.add_word(word, freq=200000)
        self._cache: dict[str, tuple[str, ...]] = {}

    @property
    def user_words(self) -> tuple[str, ...]:
        return self._user_words

    def tokens(self, title: str) -> tuple[str, ...]:
        """Lower-cased useful tokens of a title, in order; cached."""
        cached = self._cache.get(title)
        if cached is None:
            text = normalize(title)
            words = (w.strip().casefold() for w in self._jieba.lcut(text, HMM=True))
            cached = tuple(w for w in words if is_useful_token(w))
            self._cache[title] = cached
        return cached

    def __len__(self) -> int:
        return len(self._cache)


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))
