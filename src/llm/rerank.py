"""Two-stage retrieval: a first-stage run's top `depth` documents re-ordered by a cross-encoder
(src/llm/cross_encoder.py), and the training data that re-ranker learns from.

- rerank(run, scores): the top `depth` documents of each query ordered by the cross-encoder; the rest keep their
  first-stage order below them (so recall@100 is unchanged and only the head of the list moves).
- interpolate: w * minmax(cross-encoder) + (1 - w) * minmax(first stage) over the same top `depth`; w = 1 is the
  pure re-ranker, w = 0 the first stage. The first stage knows things the re-ranker, which reads only the first
  128 tokens, cannot (the rest of a long abstract, exact term statistics), so a blend can beat both; w is chosen
  on held-out train queries (dev), never on test.
- hard_negative_groups: (query, [positive, negative, ...]) groups whose negatives are a first stage's top
  documents that are not judged relevant: the documents a re-ranker must learn to push down.
"""

import numpy as np

from src.llm.fusion import min_max
from src.llm.ir_metrics import ranking


def dev_split(query_ids: list[str], fraction: float, seed: int) -> tuple[list[str], list[str]]:
    """(fit, dev): a seeded random `fraction` of the queries held out (at least one each side)."""
    if not 0 < fraction < 1 or len(query_ids) < 2:
        raise ValueError(f"dev_split needs 0 < fraction < 1 and >= 2 queries, got {fraction} and {len(query_ids)}")
    order = np.random.default_rng(seed).permutation(len(query_ids))
    n_dev = min(len(query_ids) - 1, max(1, round(fraction * len(query_ids))))
    dev = sorted(query_ids[i] for i in order[:n_dev])
    held = set(dev)
    return [q for q in query_ids if q not in held], dev


def hard_negative_groups(
    query_ids, queries: dict, texts: dict, qrels: dict, candidates: dict, per_group: int, rng=None
) -> list[tuple[str, list[str]]]:
    """A group per (query, relevant document): [positive text] + per_group negative texts drawn from the query's
    candidates (its first-stage run) that are not judged relevant; rng=None takes the top ones instead of a random
    draw. Too few candidates: topped up with other unjudged documents in corpus order."""
    groups = []
    for qid in query_ids:
        judged = qrels[qid]
        positives = [d for d, r in judged.items() if r > 0 and d in texts]
        negatives = [d for d in ranking(candidates.get(qid, {})) if judged.get(d, 0) <= 0]
        if len(negatives) < per_group:
            extra = (d for d in texts if judged.get(d, 0) <= 0 and d not in negatives)
            negatives += [d for _, d in zip(range(per_group - len(negatives)), extra, strict=False)]
        for positive in positives:
            picked = negatives[:per_group] if rng is None else list(rng.choice(negatives, per_group, replace=False))
            groups.append((queries[qid], [texts[positive]] + [texts[d] for d in picked]))
    return groups


def candidate_pairs(run: dict, queries: dict, texts: dict, depth: int) -> tuple[list, list[str], list[str]]:
    """([(query id, doc id)], query texts, doc texts) for every query's top `depth` documents."""
    keys = [(qid, doc) for qid in run for doc in ranking(run[qid])[:depth]]
    return keys, [queries[q] for q, _ in keys], [texts[d] for _, d in keys]


def interpolate(run: dict, ce_scores: dict, depth: int, weight: float) -> dict:
    """The re-ranked run: w * minmax(cross-encoder) + (1 - w) * minmax(first stage) over each query's top
    `depth`; the documents below keep their first-stage order underneath (module docstring). ce_scores:
    {(query id, doc id): score}."""
    if not 0 <= weight <= 1:
        raise ValueError(f"the re-ranker's weight must be in [0, 1], got {weight}")
    out = {}
    for qid, scores in run.items():
        ranked = ranking(scores)
        head, tail = ranked[:depth], ranked[depth:]
        first = min_max({d: scores[d] for d in head})
        second = min_max({d: ce_scores[(qid, d)] for d in head})
        combined = {d: weight * second[d] + (1 - weight) * first[d] for d in head}
        out[qid] = {d: 2.0 + s for d, s in combined.items()}  # in [2, 3]: above every tail document
        out[qid].update({d: 1.0 - i / (len(tail) + 1) for i, d in enumerate(tail)})  # in (0, 1], first-stage order
    return out


def rerank(run: dict, ce_scores: dict, depth: int) -> dict:
    """The top `depth` ordered by the cross-encoder alone (interpolate with weight 1)."""
    return interpolate(run, ce_scores, depth, 1.0)
