"""Sparse TF-IDF vectors, small and local.

scikit-learn's TfidfVectorizer does the same, but importing scikit-learn costs ~0.85 s (it pulls
in scipy.stats), which is most of the 2 s budget of one `topicscout trends` run.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy.sparse import csr_matrix, diags


def tfidf(docs: Sequence[Sequence[str]]) -> tuple[csr_matrix, list[str]]:
    """Rows of sublinear tf × smoothed idf (as scikit-learn's defaults), not normalised."""
    vocabulary: dict[str, int] = {}
    indptr, indices, data = [0], [], []
    for doc in docs:
        for term, count in Counter(doc).items():
            indices.append(vocabulary.setdefault(term, len(vocabulary)))
            data.append(1.0 + math.log(count))
        indptr.append(len(indices))
    shape = (len(docs), len(vocabulary))
    matrix = csr_matrix((np.array(data), np.array(indices, dtype=np.int64), np.array(indptr)),
                        shape=shape)
    df = np.bincount(np.array(indices, dtype=np.int64), minlength=len(vocabulary))
    idf = np.log((1 + len(docs)) / (1 + df)) + 1.0
    return csr_matrix(matrix @ diags(idf)), list(vocabulary)


def unit_rows(matrix: csr_matrix) -> csr_matrix:
    """Each row scaled to length 1 (empty rows stay empty)."""
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return csr_matrix(diags(1.0 / norms) @ matrix)
