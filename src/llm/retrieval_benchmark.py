"""BM25 speed, ours against bm25s and rank-bm25, in one process on the same tokens and the same queries.

Queries per second = queries / seconds for retrieving the top k of every query (tokenisation excluded for all
three, as it is shared); the best of `repeats` rounds (src/benchmark.py best_time). rank-bm25 scores one query at
a time in Python, so it is timed on the first `rank_bm25_queries` queries only.
"""

import numpy as np

from src.benchmark import best_time
from src.llm.bm25 import BM25


def bm25_speeds(
    index: BM25, corpus_tokens, queries_tokens, k: int, repeats: int, rank_bm25_queries: int
) -> tuple[dict[str, float], float]:
    """({implementation: queries/s}, max |our score - bm25s score| over the timed queries)."""
    import bm25s
    import rank_bm25

    n = len(queries_tokens)
    speeds = {"scratch_bm25": n / best_time(lambda: index.search(queries_tokens, k), repeats=repeats)}
    reference = bm25s.BM25(k1=index.k1, b=index.b, method="lucene")
    reference.index(corpus_tokens, show_progress=False)
    known = [[t for t in q if t in reference.vocab_dict] or ["__none__"] for q in queries_tokens]
    speeds["bm25s"] = n / best_time(
        lambda: reference.retrieve(known, k=k, show_progress=False, n_threads=1), repeats=repeats
    )
    sample = queries_tokens[:rank_bm25_queries]
    okapi = rank_bm25.BM25Okapi(corpus_tokens, k1=index.k1, b=index.b)
    speeds["rank_bm25"] = len(sample) / best_time(
        lambda: [np.argsort(-okapi.get_scores(q))[:k] for q in sample], repeats=1, min_seconds=0
    )
    check = [q for q in queries_tokens[:50] if q]
    ours = index.scores(check)
    theirs = np.array([reference.get_scores(q) for q in check])
    return speeds, float(np.abs(ours - theirs).max())
