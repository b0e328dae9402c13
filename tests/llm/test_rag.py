"""Fusion, RM3, chunking and the RAG pipeline on a toy corpus whose answers are known."""

import numpy as np
import pytest

from src.llm import fusion
from src.llm.advanced_rag import chunk, chunk_corpus, max_passage_scores, rm3_weights
from src.llm.rag import DenseRetriever, RAGPipeline, SparseRetriever, hybrid
from src.llm.text import tokenize

DOCS = {
    "d1": "Aspirin reduces heart attacks. It thins the blood.",
    "d2": "Insulin regulates blood glucose. Diabetes follows when it fails.",
    "d3": "Statins lower cholesterol. Lower cholesterol reduces heart disease.",
}


def test_rrf_and_weighted_fusion_by_hand():
    a = {"q": {"x": 3.0, "y": 2.0}}
    b = {"q": {"y": 0.9, "z": 0.1}}
    rrf = fusion.reciprocal_rank_fusion([a, b], k=60)["q"]
    assert rrf["y"] == pytest.approx(1 / 62 + 1 / 61) and rrf["x"] == pytest.approx(1 / 61)
    weighted = fusion.weighted_fusion(a, b, 0.25)["q"]
    assert weighted == pytest.approx({"x": 0.75, "y": 0.25, "z": 0.0})
    with pytest.raises(ValueError, match="dense_weight"):
        fusion.weighted_fusion(a, b, 1.5)
    with pytest.raises(ValueError, match="rrf"):
        hybrid(a, b, "max")


def test_rm3_keeps_the_query_and_adds_feedback_terms():
    sparse = SparseRetriever(list(DOCS), list(DOCS.values()), 1.2, 0.75)
    weights = rm3_weights(sparse.index, [tokenize("aspirin")], fb_docs=1, fb_terms=3, original_weight=0.5)[0]
    assert weights[tokenize("aspirin")[0]] > 0.5 and sum(weights.values()) == pytest.approx(1.0)
    assert len(weights) >= 2


def test_chunking_strategies():
    text = "One two three four five six seven"
    assert chunk(text, "none", 3) == [text]
    assert chunk(text, "fixed", 3, 1) == ["One two three", "three four five", "five six seven"]
    assert chunk("A b. C d. E f.", "sentences", 2, 0) == ["A b. C d.", "E f."]
    passages, owners = chunk_corpus(list(DOCS.values()), "sentences", 1)
    assert len(passages) == 6 and owners.tolist() == [0, 0, 1, 1, 2, 2]
    doc_scores = max_passage_scores(np.array([[1, 5, 2, 0, 0, 3]]), owners, 3)
    assert doc_scores.tolist() == [[5, 2, 3]]
    with pytest.raises(ValueError, match="strategy"):
        chunk(text, "paragraphs", 2)


def test_rag_pipeline_answers_with_citations_and_refuses_empty_questions():
    ids, texts = list(DOCS), list(DOCS.values())
    sparse = SparseRetriever(ids, texts, 1.2, 0.75)
    rag = RAGPipeline(lambda q: sparse.search({"q": q}, 3)["q"], DOCS, lambda t: 1.0, 2, 1)
    answer = rag.answer("What does insulin regulate?")
    assert answer["citations"] == ["d2"] and "Insulin regulates blood glucose. [d2]" == answer["answer"]
    with pytest.raises(ValueError, match="non-empty"):
        rag.answer("  ")
    with pytest.raises(ValueError, match="empty query"):
        sparse.search({"q": ""}, 3)
    dense = DenseRetriever(ids, np.eye(3, dtype=np.float32), lambda texts: np.eye(3, dtype=np.float32)[[1]])
    assert list(dense.search({"q": "anything"}, 1)["q"]) == ["d2"]
