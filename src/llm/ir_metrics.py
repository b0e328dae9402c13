"""Ranking metrics the field reports, from scratch: nDCG@k (BEIR's headline), recall@k, MRR@k.

A run is {query id: {doc id: score}}; qrels are {query id: {doc id: relevance}}. Documents are ranked by score,
ties broken by doc id in descending order, which is what trec_eval (and so pytrec_eval and ir-measures) does.

- DCG@k = sum_{i<=k} rel_i / log2(i + 1), with the graded relevance as the gain (trec_eval's ndcg_cut);
  nDCG@k = DCG@k / IDCG@k, IDCG from the judged relevances sorted in decreasing order (Jarvelin & Kekalainen 2002).
- recall@k = |relevant in top k| / |relevant|; RR@k = 1 / rank of the first relevant document in the top k, else 0.
Relevant means relevance > 0. Each metric is averaged over the queries of the qrels; a query the run does not
answer counts 0 (trec_eval leaves it out unless -c: we pass every query, so the two agree).
"""

import math

import numpy as np

METRICS = ("ndcg_at_10", "recall_at_10", "recall_at_100", "mrr_at_10")


def ranking(scores: dict[str, float]) -> list[str]:
    return [doc for doc, _ in sorted(scores.items(), key=lambda item: (item[1], item[0]), reverse=True)]


def untie(run: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """The same ranking with strictly decreasing scores (n, n-1, ...): fused runs (RRF) have many exact ties,
    and evaluation tools order ties differently (trec_eval by doc id, others by insertion); a run whose ties are
    already broken is scored the same by all of them."""
    return {qid: {doc: float(len(scores) - i) for i, doc in enumerate(ranking(scores))} for qid, scores in run.items()}


def ndcg_at_k(ranked: list[str], relevance: dict[str, int], k: int) -> float:
    dcg = sum(relevance.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]) if relevance.get(doc, 0) > 0)
    ideal = sorted((r for r in relevance.values() if r > 0), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at_k(ranked: list[str], relevance: dict[str, int], k: int) -> float:
    relevant = {doc for doc, r in relevance.items() if r > 0}
    return len(relevant.intersection(ranked[:k])) / len(relevant) if relevant else 0.0


def reciprocal_rank_at_k(ranked: list[str], relevance: dict[str, int], k: int) -> float:
    for i, doc in enumerate(ranked[:k]):
        if relevance.get(doc, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def per_query(run: dict[str, dict[str, float]], qrels: dict[str, dict[str, int]]) -> dict[str, np.ndarray]:
    """{metric: array over the qrels' queries, in qrels order}."""
    out = {name: [] for name in METRICS}
    for qid, relevance in qrels.items():
        ranked = ranking(run.get(qid, {}))
        out["ndcg_at_10"].append(ndcg_at_k(ranked, relevance, 10))
        out["recall_at_10"].append(recall_at_k(ranked, relevance, 10))
        out["recall_at_100"].append(recall_at_k(ranked, relevance, 100))
        out["mrr_at_10"].append(reciprocal_rank_at_k(ranked, relevance, 10))
    return {name: np.array(values) for name, values in out.items()}


def evaluate(run: dict[str, dict[str, float]], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    """The mean of each metric in METRICS over the qrels' queries."""
    if not qrels:
        raise ValueError("no queries to evaluate: qrels is empty")
    return {name: float(values.mean()) for name, values in per_query(run, qrels).items()}


def recall_curve(run: dict[str, dict[str, float]], qrels: dict[str, dict[str, int]], ks) -> list[float]:
    """Mean recall@k for each k (the recall@k figure)."""
    ranked = {qid: ranking(run.get(qid, {})) for qid in qrels}
    return [float(np.mean([recall_at_k(ranked[q], qrels[q], k) for q in qrels])) for k in ks]


def reference_evaluate(run: dict[str, dict[str, float]], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    """The same means from ir-measures (trec_eval through pytrec_eval): what the tests and the stage hold ours to."""
    import ir_measures
    from ir_measures import RR, R, nDCG

    measures = {"ndcg_at_10": nDCG @ 10, "recall_at_10": R @ 10, "recall_at_100": R @ 100, "mrr_at_10": RR @ 10}
    per = {name: dict.fromkeys(qrels, 0.0) for name in measures}
    lookup = {str(measure): name for name, measure in measures.items()}
    for m in ir_measures.iter_calc(list(measures.values()), qrels, run):
        per[lookup[str(m.measure)]][m.query_id] = m.value
    return {name: float(np.mean(list(values.values()))) for name, values in per.items()}
