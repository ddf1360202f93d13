"""Near-duplicate headlines across platforms -> one story.

Two stages, as measured in DESIGN's engineering notes: a sparse TF-IDF cosine self-join keeps
only pairs above ``CANDIDATE`` (cheap, and it splits the data into small connected components),
then average linkage inside each component cuts at ``SAME_STORY``. Single linkage alone chains
"孙龙银牌" → "孙龙进决赛" → "刘少昂进决赛" → "谷爱凌决赛"; average linkage needs a headline to be
close to the group as a whole. Over-merging two events is worse than splitting one, so both
thresholds are tuned for precision on tests/data/trends/stories_labelled.jsonl.

Features are jieba words plus character bigrams: bigrams catch the same event worded
differently ("马年春晚节目单" / "春晚节目单公布"), words keep rare names weighty.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

import numpy as np
from scipy.sparse import csr_matrix, diags
from scipy.sparse.csgraph import connected_components

from trends.text import char_ngrams, is_new_word, normalize
from trends.vectors import tfidf, unit_rows

# Cosine at which two headlines become candidates for the same story (stage one).
CANDIDATE = 0.5
# Average cosine a headline needs with a group to join it (stage two).
SAME_STORY = 0.65
# Headlines first seen further apart than this are never the same story (seconds): a name in
# the news twice in a week is usually two events.
STORY_SPAN = 48 * 3600.0
# Weight of word features against character bigrams. Equal weights measured best on the
# labelled sample: 1.5-3 merged more headlines wrongly than they joined rightly.
WORD_WEIGHT = 1.0
# Two headlines that both quote numbers but share none ("女子500米" / "男子1000米", "被偷49000元" /
# "被偷8000元") are usually different events: their cosine is scaled by this.
NUMBER_CONFLICT = 0.6
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
# Two headlines naming different people (words jieba's dictionary lacks: "王欣然犯规无缘晋级" /
# "黄大宪犯规无缘晋级") and no shared one are about different people: cosine scaled by this.
NAME_CONFLICT = 0.6
# A headline listing several stories ("8点1氪丨A；B；C") belongs to none of them.
_CLAUSES = re.compile(r"[;；]")


def is_roundup(title: str) -> bool:
    """A newsletter-style headline that strings several stories together."""
    return len([c for c in _CLAUSES.split(normalize(title)) if len(c.strip()) > 4]) >= 3


def numbers(title: str) -> frozenset[str]:
    return frozenset(_NUMBER.findall(normalize(title)))


def features(title: str, tokens: Sequence[str]) -> list[str]:
    """Words (w:) and character bigrams (c:) of a headline: the TF-IDF vocabulary."""
    return [f"w:{t}" for t in tokens] + [f"c:{g}" for g in char_ngrams(title, 2)]


def similarity_graph(titles: Sequence[str], tokens: Sequence[Sequence[str]],
                     times: Sequence[float] | None, candidate: float,
                     names: Sequence[Collection[str]] | None = None) -> csr_matrix:
    """Sparse cosine matrix with entries >= ``candidate`` inside the time span, else 0."""
    docs = [features(t, tok) for t, tok in zip(titles, tokens, strict=True)]
    matrix, vocabulary = tfidf(docs)
    is_word = np.array([f.startswith("w:") for f in vocabulary], dtype=bool)
    matrix = unit_rows(csr_matrix(matrix @ diags(np.where(is_word, WORD_WEIGHT, 1.0))))
    similar = (matrix @ matrix.T).tocoo()
    keep = similar.data >= candidate
    rows, cols, data = similar.row[keep], similar.col[keep], similar.data[keep]
    if times is not None:
        stamp = np.asarray(times, dtype=float)
        close = np.abs(stamp[rows] - stamp[cols]) <= STORY_SPAN
        rows, cols, data = rows[close], cols[close], data[close]
    if names is None:
        names = [frozenset(t for t in tok if is_new_word(t)) for tok in tokens]
    data = data * _conflicts(titles, names, rows, cols)
    keep = data >= candidate
    n = len(titles)
    return csr_matrix((data[keep], (rows[keep], cols[keep])), shape=(n, n))


def _conflicts(titles: Sequence[str], names: Sequence[Collection[str]], rows: np.ndarray,
               cols: np.ndarray) -> np.ndarray:
    """Per candidate pair, the factor its cosine is scaled by (1 = no conflict, 0 = never)."""
    nums = [numbers(t) for t in titles]
    roundup = [is_roundup(t) for t in titles]
    factor = np.ones(len(rows))
    for k, (i, j) in enumerate(zip(rows.tolist(), cols.tolist(), strict=True)):
        if i == j:
            continue
        if roundup[i] or roundup[j]:
            factor[k] = 0.0
        elif nums[i] and nums[j] and not nums[i] & nums[j]:
            factor[k] = NUMBER_CONFLICT
        elif names[i] and names[j] and not set(names[i]) & set(names[j]):
            factor[k] = NAME_CONFLICT
    return factor


def _average_linkage(graph: csr_matrix, members: np.ndarray, cut: float) -> np.ndarray:
    """Cluster labels of one component: average linkage, merging while the mean similarity
    between two groups is >= ``cut`` (as scipy's linkage + fcluster on 1 - cosine, without
    the 0.7 s of importing scipy.cluster)."""
    sim = np.clip(graph[members][:, members].toarray(), 0.0, 1.0)
    n = len(members)
    np.fill_diagonal(sim, -np.inf)
    sizes = np.ones(n)
    labels = np.arange(n)
    while True:
        flat = int(np.argmax(sim))
        i, j = divmod(flat, n)
        if sim[i, j] < cut:
            return labels
        merged = (sizes[i] * sim[i] + sizes[j] * sim[j]) / (sizes[i] + sizes[j])
        sim[i], sim[:, i] = merged, merged
        sim[i, i] = -np.inf
        sim[j], sim[:, j] = -np.inf, -np.inf
        sizes[i] += sizes[j]
        labels[labels == j] = i


def group_headlines(titles: Sequence[str], tokens: Sequence[Sequence[str]],
                    threshold: float = SAME_STORY, *, times: Sequence[float] | None = None,
                    candidate: float = CANDIDATE,
                    names: Sequence[Collection[str]] | None = None) -> list[int]:
    """A story label per headline (labels are arbitrary ints; equal label = same story).

    ``times`` (epoch seconds of first sighting), when given, keeps headlines more than
    ``STORY_SPAN`` apart in different stories. ``names`` are each headline's tokens the
    segmenter's dictionary lacks (people, teams, products), as :meth:`Tokenizer.names` gives.
    Headlines with no usable features stay alone.
    """
    n = len(titles)
    if n == 0:
        return []
    if not any(tokens) and not any(char_ngrams(t) for t in titles):
        return list(range(n))
    graph = similarity_graph(titles, tokens, times, min(candidate, threshold), names)
    return cluster_graph(graph, threshold)


def cluster_graph(graph: csr_matrix, threshold: float) -> list[int]:
    """Labels from a sparse similarity graph: components, then average linkage in each."""
    n = graph.shape[0]
    _, component = connected_components(graph, directed=False)
    labels = np.asarray(component, dtype=np.int64) * (n + 1)
    order = np.argsort(component, kind="stable")
    bounds = np.flatnonzero(np.diff(component[order])) + 1
    for members in np.split(order, bounds):
        if len(members) > 2:
            labels[members] += _average_linkage(graph, members, threshold)
        elif len(members) == 2 and graph[members[0], members[1]] < threshold:
            labels[members[1]] += 1
    _, dense = np.unique(labels, return_inverse=True)
    return [int(x) for x in dense]
