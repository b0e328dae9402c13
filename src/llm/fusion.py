"""Combining rankings from two retrievers (BM25 and dense).

- Reciprocal-rank fusion (Cormack, Clarke & Buettcher, SIGIR 2009): score(d) = sum_r 1 / (k + rank_r(d)), k = 60;
  it uses ranks only, so the retrievers' score scales never matter.
- Weighted sum of normalised scores: each retriever's top-`depth` scores min-max scaled to [0, 1] per query
  (a document a retriever did not return gets 0), then w * dense + (1 - w) * sparse; w is chosen on train queries.
Both take runs ({query id: {doc id: score}}) and return a run.
"""

import numpy as np


def reciprocal_rank_fusion(runs: list[dict[str, dict[str, float]]], k: int = 60) -> dict[str, dict[str, float]]:
    fused: dict[str, dict[str, float]] = {}
    for run in runs:
        for qid, scores in run.items():
            target = fused.setdefault(qid, {})
            ranked = sorted(scores.items(), key=lambda item: (item[1], item[0]), reverse=True)
            for rank, (doc, _) in enumerate(ranked, start=1):
                target[doc] = target.get(doc, 0.0) + 1.0 / (k + rank)
    return fused


def min_max(scores: dict[str, float]) -> dict[str, float]:
    if not scores:
        return {}
    values = np.array(list(scores.values()))
    low, span = values.min(), values.max() - values.min()
    return {doc: (s - low) / span if span > 0 else 1.0 for doc, s in scores.items()}


def weighted_fusion(
    sparse: dict[str, dict[str, float]], dense: dict[str, dict[str, float]], dense_weight: float
) -> dict[str, dict[str, float]]:
    if not 0 <= dense_weight <= 1:
        raise ValueError(f"dense_weight must be in [0, 1], got {dense_weight}")
    fused = {}
    for qid in set(sparse) | set(dense):
        s, d = min_max(sparse.get(qid, {})), min_max(dense.get(qid, {}))
        fused[qid] = {
            doc: (1 - dense_weight) * s.get(doc, 0.0) + dense_weight * d.get(doc, 0.0) for doc in set(s) | set(d)
        }
    return fused
