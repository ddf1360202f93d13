"""Text for SQLite full-text search: titles and queries as space-joined jieba tokens.

FTS5's trigram tokenizer cannot match 2-character Chinese words (DESIGN.md), so the index holds
jieba's words joined by spaces and FTS5's default tokenizer splits on those spaces. Index and
query use the same tokenizer with jieba's *default* dictionary and nothing else: a brand word
added later must not make old rows unfindable, which a brand-dependent dictionary would.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import jieba

from trends.text import normalize

_WORDISH = re.compile(r"[\w\u3400-\u9fff]")


@lru_cache(maxsize=1)
def _jieba() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    return jieba.Tokenizer()


def _words(text: str, *, for_index: bool) -> list[str]:
    clean = normalize(text).casefold()
    tokenizer = _jieba()
    # Search mode adds the dictionary sub-words of long words (中华人民共和国 -> 共和国 …), so a
    # query for a part of a long word still finds the title.
    raw = tokenizer.cut_for_search(clean) if for_index else tokenizer.cut(clean)
    return [w.strip() for w in raw if w.strip() and _WORDISH.search(w)]


def index_text(title: str) -> str:
    """The FTS column value for a title: its tokens joined by spaces."""
    return " ".join(dict.fromkeys(_words(title, for_index=True)))


def match_query(words: str) -> str | None:
    """An FTS5 MATCH expression requiring every token of ``words``; None when nothing is left.

    Every token is quoted, so user input can never be read as FTS5 syntax (AND, NEAR, "*").
    """
    tokens = list(dict.fromkeys(_words(words, for_index=False)))
    if not tokens:
        return None
    return " AND ".join('"' + t.replace('"', '""') + '"' for t in tokens)
