"""Our sparse-matrix BM25 gives the scores of bm25s (Lucene variant) and rank-bm25 (Okapi) on the same tokens."""

import numpy as np
import pytest

from src.llm.bm25 import BM25, as_run, top_k
from src.llm.text import split_sentences, tokenize

DOCS = [
    "Aspirin reduces the risk of heart attack in adults with cardiovascular disease.",
    "The mitochondria is the powerhouse of the cell and produces ATP.",
    "Vitamin D deficiency is associated with bone loss and fractures in older adults.",
    "Heart disease is the leading cause of death; aspirin is widely used in prevention.",
    "ATP synthase produces ATP in mitochondria using a proton gradient.",
    "Older adults with fractures recover slowly; bone density declines with age.",
    "The the the of of and",  # only stop words: an empty document
]
QUERIES = ["aspirin heart attack", "ATP production in the mitochondria", "bone fractures bone", "quantum gravity"]


@pytest.fixture(scope="module")
def tokens():
    return [tokenize(d) for d in DOCS], [tokenize(q) for q in QUERIES]


def test_tokenize_stems_and_drops_stop_words():
    assert tokenize("The fractures were healing") == ["fractur", "heal"]
    assert split_sentences("One sentence. Two here! 3 more.") == ["One sentence.", "Two here!", "3 more."]


@pytest.mark.parametrize(("k1", "b"), [(1.2, 0.75), (0.9, 0.4), (2.0, 1.0)])
def test_lucene_scores_equal_bm25s(tokens, k1, b):
    bm25s = pytest.importorskip("bm25s")
    docs, queries = tokens
    reference = bm25s.BM25(k1=k1, b=b, method="lucene")
    reference.index(docs, show_progress=False)
    ours = BM25(k1=k1, b=b, method="lucene").index(docs).scores(queries[:3])
    expected = np.array([reference.get_scores(q) for q in queries[:3]])
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-6)  # bm25s stores float32


@pytest.mark.parametrize(("k1", "b"), [(1.2, 0.75), (1.5, 0.3)])
def test_okapi_scores_equal_rank_bm25(tokens, k1, b):
    rank_bm25 = pytest.importorskip("rank_bm25")
    docs, queries = tokens
    reference = rank_bm25.BM25Okapi(docs, k1=k1, b=b)
    ours = BM25(k1=k1, b=b, method="okapi").index(docs).scores(queries)
    np.testing.assert_allclose(ours, np.array([reference.get_scores(q) for q in queries]), atol=1e-9)


def test_search_ranks_the_obvious_document_first(tokens):
    docs, queries = tokens
    index = BM25().index(docs)
    indices, scores = index.search(queries, k=3)
    assert indices[0, 0] in (0, 3) and indices[1, 0] in (1, 4) and indices[2, 0] in (2, 5)
    assert np.all(scores[3] == 0)  # no query term in the vocabulary
    run = as_run(["a", "b", "c", "d"], [str(i) for i in range(len(DOCS))], indices, scores)
    assert list(run["a"])[0] in ("0", "3")


def test_top_k_matches_a_full_sort():
    scores = np.random.default_rng(0).normal(size=(5, 50))
    indices, values = top_k(scores, 7)
    np.testing.assert_array_equal(indices, np.argsort(-scores, axis=1)[:, :7])
    np.testing.assert_array_equal(values, -np.sort(-scores, axis=1)[:, :7])


def test_bad_parameters_and_empty_corpus_are_refused():
    with pytest.raises(ValueError, match="k1"):
        BM25(b=2)
    with pytest.raises(ValueError, match="method"):
        BM25(method="bm42")
    with pytest.raises(ValueError, match="empty corpus"):
        BM25().index([])
