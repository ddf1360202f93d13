"""Story grouping: precise near-duplicates across platforms, checked on hand-labelled titles."""

from __future__ import annotations

import itertools
import json
from datetime import datetime
from pathlib import Path

from trends.stories import group_headlines, is_roundup
from trends.text import Tokenizer

LABELLED = Path(__file__).resolve().parent.parent / "data" / "trends" / "stories_labelled.jsonl"


def pairwise(truth: list[str], predicted: list[int]) -> tuple[float, float]:
    tp = fp = fn = 0
    for i, j in itertools.combinations(range(len(truth)), 2):
        same, together = truth[i] == truth[j], predicted[i] == predicted[j]
        tp += same and together
        fp += together and not same
        fn += same and not together
    return tp / max(1, tp + fp), tp / max(1, tp + fn)


def test_hand_labelled_sample_is_grouped_with_pairwise_precision_of_at_least_095(
        tokenizer: Tokenizer) -> None:
    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 300
    titles = [r["title"] for r in rows]
    labels = group_headlines(titles, [tokenizer.tokens(t) for t in titles],
                             times=[datetime.fromisoformat(r["first_seen"]).timestamp()
                                    for r in rows], names=[tokenizer.names(t) for t in titles])
    precision, recall = pairwise([r["story"] for r in rows], labels)
    print(f"stories: pairwise precision {precision:.3f}, recall {recall:.3f}")
    assert precision >= 0.95
    assert recall > 0  # it does group something


def _group(tokenizer: Tokenizer, titles: list[str], times: list[float] | None = None) -> list[int]:
    return group_headlines(titles, [tokenizer.tokens(t) for t in titles], times=times,
                           names=[tokenizer.names(t) for t in titles])


def test_the_same_headline_on_two_platforms_is_one_story(tokenizer: Tokenizer) -> None:
    titles = ["坏果太多胖东来下架全部智利车厘子", "坏果太多 胖东来下架全部智利车厘子",
              "中戏表演系原主任陈刚主动投案"]
    labels = _group(tokenizer, titles)
    assert labels[0] == labels[1] != labels[2]


def test_headlines_far_apart_in_time_stay_apart(tokenizer: Tokenizer) -> None:
    titles = ["春节中国赴日旅客量腰斩", "春节中国赴日旅客量腰斩了"]
    assert len(set(_group(tokenizer, titles, [0.0, 3600.0]))) == 1
    assert len(set(_group(tokenizer, titles, [0.0, 5 * 86400.0]))) == 2


def test_different_numbers_keep_similar_headlines_apart(tokenizer: Tokenizer) -> None:
    labels = _group(tokenizer, ["男子火车上打盹被偷49000元", "男子火车上打盹被偷8000元"])
    assert labels[0] != labels[1]


def test_a_roundup_belongs_to_none_of_its_stories(tokenizer: Tokenizer) -> None:
    roundup = "8点1氪丨影石CEO回应年会送房；12306新增提醒；美司法部长拒绝道歉"
    assert is_roundup(roundup)
    labels = _group(tokenizer, [roundup, "影石CEO回应年会送房"])
    assert labels[0] != labels[1]


def test_no_headlines_no_stories() -> None:
    assert group_headlines([], []) == []
