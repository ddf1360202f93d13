"""Near-duplicate headlines across platforms -> one story.

TF-IDF over jieba words plus character bigrams (bigrams catch the same event worded
differently: "马年春晚节目单" / "春晚节目单公布"), cosine similarity through one sparse
self-product, then single-link components over a high threshold. Over-merging two events is
worse than splitting one, so the threshold is tuned for precision.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.sparse.csgraph import connected_components
from sklearn.feature_extraction.text import TfidfVectorizer

from trends.text import has_cjk, normalize

# Cosine similarity at which two headlines are taken to report the same event.
SAME_STORY = 0.6


def features(title: str, tokens: Sequence[str]) -> list[str]:
    feats = [f"w:{t}" for t in tokens]
    text = normalize(title).casefold()
    if has_cjk(text):
        compact = "".join(ch for ch in text if not ch.isspace())
        feats += [f"c:{compact[i:i + 2]}" for i in range(len(compact) - 1)]
    return feats


def group_headlines(titles: Sequence[str], tokens: Sequence[Sequence[str]],
                    threshold: float = SAME_STORY) -> list[int]:
    """A story label per headline; headlines with no usable features stay alone."""
    n = len(titles)
    if n == 0:
        return []
    docs = [features(t, tok) for t, tok in zip(titles, tokens, strict=True)]
    if not any(docs):
        return list(range(n))
    vectorizer = TfidfVectorizer(analyzer=lambda doc: doc, sublinear_tf=True)
    matrix = vectorizer.fit_transform(docs)
    similar = matrix @ matrix.T
    similar.data[similar.data < threshold] = 0
    similar.eliminate_zeros()
    _, labels = connected_components(similar, directed=False)
    return [int(x) for x in np.asarray(labels)]
