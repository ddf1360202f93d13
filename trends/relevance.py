"""Brand relevance (with the reason) and brand safety of a story."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

from trends.model import Brand, Relevance, Safety
from trends.text import Tokenizer, has_cjk, normalize

# A keyword names the brand; a related word only places the story in the brand's field.
KEYWORD_WEIGHT = 1.0
RELATED_WEIGHT = 0.4


def _contains_phrase(tokens: Sequence[str], phrase: Sequence[str]) -> bool:
    n = len(phrase)
    return n > 0 and any(tuple(tokens[i:i + n]) == tuple(phrase)
                         for i in range(len(tokens) - n + 1))


def mentions(title: str, word: str, tokenizer: Tokenizer) -> bool:
    """Whole-word match: "mac" does not match "machine", "英伟达" matches "英伟达发布…"."""
    word_tokens = tokenizer.tokens(word) or (word.casefold(),)
    if _contains_phrase(tokenizer.tokens(title), word_tokens):
        return True
    # jieba may glue a Chinese keyword to its neighbour; a CJK substring is still a mention.
    return has_cjk(word) and word.casefold() in normalize(title).casefold()


def matches(title: str, words: Sequence[str], tokenizer: Tokenizer) -> tuple[str, ...]:
    """The words a title mentions; cached per title (a title's words never change)."""
    kind = "mentions\x1f" + "\x1f".join(words)
    return tokenizer.remember(kind, title,
                              lambda: tuple(w for w in words if mentions(title, w, tokenizer)))


def score_relevance(titles: Sequence[str], brand: Brand, tokenizer: Tokenizer) -> Relevance:
    """How close a story is to the brand, and why: the words matched and the title they are in."""
    matched: list[str] = []
    where = ""
    score = 0.0
    for words, weight in ((brand.keywords, KEYWORD_WEIGHT), (brand.related, RELATED_WEIGHT)):
        for title in titles:
            hits = [w for w in matches(title, words, tokenizer) if w not in matched]
            if hits:
                matched += hits
                where = where or title
                score = max(score, weight)
    excluded = any(matches(t, brand.exclude, tokenizer) for t in titles)
    reason = f"matched {', '.join(matched)} in «{where}»" if matched else ""
    if excluded:
        reason = "mentions an excluded word"
    return Relevance(score=score, matched=tuple(matched), excluded=excluded, reason=reason)


@lru_cache(maxsize=1)
def builtin_unsafe_words() -> tuple[str, ...]:
    text = resources.files("trends").joinpath("data/unsafe.txt").read_text(encoding="utf-8")
    return tuple(w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#"))


def matched_words(brand: Brand) -> tuple[str, ...]:
    """Every word titles are matched against (their tokens are needed as well as titles')."""
    return tuple(dict.fromkeys((*brand.keywords, *brand.related, *brand.exclude, *brand.avoid,
                                *builtin_unsafe_words())))


def score_safety(titles: Sequence[str], brand: Brand, tokenizer: Tokenizer) -> Safety:
    """Risky when a title names a disaster, death, crime, politics, or one of the avoid words.

    Chinese words match as substrings on purpose: for safety a false alarm costs a skipped
    idea, a miss costs the brand's reputation.
    """
    words = tuple(dict.fromkeys((*brand.avoid, *builtin_unsafe_words())))
    flags: list[str] = []
    for title in titles:
        flags += [w for w in matches(title, words, tokenizer) if w not in flags]
    return Safety(risky=bool(flags), flags=tuple(flags[:5]))
