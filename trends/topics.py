"""Topics: rising stories clustered by their keywords, each labelled by its top keywords.

Stories are strict (one event); a topic gathers the stories a person would write one post
about ("孙龙银牌" and "孙龙夺银后哭了"). Each story is a TF-IDF vector of its words, weighted up
by how much each word is bursting; stories whose vectors are close join one topic (the same
candidate graph + average linkage as stories, at a looser threshold).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence

import numpy as np
from scipy.sparse import csr_matrix, diags

from trends.stories import cluster_graph
from trends.vectors import tfidf, unit_rows

# Average cosine (keyword vectors) for two stories to be one topic.
SAME_TOPIC = 0.45
# Bursting words pull stories together: weight × (1 + BURST_WEIGHT · log2(burst)).
BURST_WEIGHT = 0.5
TOPIC_TERMS = 5
NAME_WEIGHT = 2.0


def story_vectors(docs: Sequence[Sequence[str]], bursts: Mapping[str, float],
                  names: Collection[str] = ()) -> tuple[csr_matrix, np.ndarray]:
    """Row-normalised TF-IDF vectors (words weighted by burst, names more) and the vocabulary."""
    matrix, vocabulary = tfidf(docs)
    boost = np.array([(1 + BURST_WEIGHT * math.log2(max(1.0, bursts.get(t, 1.0))))
                      * (NAME_WEIGHT if t in names else 1.0) for t in vocabulary])
    return unit_rows(csr_matrix(matrix @ diags(boost))), np.array(vocabulary, dtype=object)


def cluster_stories(docs: Sequence[Sequence[str]], bursts: Mapping[str, float],
                    threshold: float = SAME_TOPIC, *, names: Collection[str] = (),
                    ) -> tuple[list[list[int]], list[tuple[str, ...]]]:
    """Groups of story indexes (in input order, so the best story leads) and their labels.

    ``names`` (words the dictionary lacks: people, teams, products) weigh NAME_WEIGHT: two
    stories naming the same rising person are one topic ("任子威 黄大宪成功淘汰" /
    "任子威谈韩国选手黄大宪犯规出局").
    """
    if not docs:
        return [], []
    if not any(docs):
        return [[i] for i in range(len(docs))], [() for _ in docs]
    matrix, vocabulary = story_vectors(docs, bursts, names)
    similar = (matrix @ matrix.T).tocsr()
    similar.data[similar.data < threshold] = 0
    similar.eliminate_zeros()
    labels = cluster_graph(similar, threshold)
    groups: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        groups.setdefault(label, []).append(index)
    ordered = sorted(groups.values(), key=lambda g: g[0])
    return ordered, [_label(matrix, vocabulary, g) for g in ordered]


def _label(matrix: csr_matrix, vocabulary: np.ndarray, members: list[int]) -> tuple[str, ...]:
    """The topic's top keywords: summed weight over its stories, the lead story first."""
    weights = np.asarray(matrix[members].sum(axis=0)).ravel()
    weights = weights + np.asarray(matrix[members[0]].todense()).ravel() * 0.5
    top = np.argsort(-weights, kind="stable")[:TOPIC_TERMS]
    return tuple(str(vocabulary[i]) for i in top if weights[i] > 0)
