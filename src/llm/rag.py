"""Retrievers behind one interface, and the RAG pipeline: retrieve, (re-rank), answer with citations.

Every retriever answers `search(queries, k)` with a run, {query id: {doc id: score}}, so the metrics, the fusion
and the pipeline take any of them:
- SparseRetriever: BM25 (src/llm/bm25.py) over tokenised title + abstract, optionally RM3-expanded;
- DenseRetriever: cosine similarity of MiniLM vectors (src/llm/embeddings.py), exact (one matrix product) or
  through a VectorDatabase (HNSW);
- HybridRetriever: both, fused by RRF or by a weighted sum of normalised scores (src/llm/fusion.py).

RAGPipeline.answer(query): the top documents of a retriever, then an answer. Offline the answer is extractive:
the sentences of the top documents that share the most query terms (weighted by BM25's idf), each followed by
its document id as a citation. With a generator (src/production/query_enhancement.py's OpenAI-compatible one),
the answer is generated from a prompt holding those passages and must cite them by id.
"""

from collections.abc import Callable

import numpy as np

from src.llm import fusion
from src.llm.advanced_rag import rm3_weights
from src.llm.bm25 import BM25, as_run, top_k
from src.llm.text import split_sentences, tokenize


def check_queries(queries: dict[str, str]) -> None:
    empty = [qid for qid, text in queries.items() if not isinstance(text, str) or not text.strip()]
    if empty:
        raise ValueError(f"empty query text for query id(s) {empty[:5]}: a retriever needs words to search with")


class SparseRetriever:
    def __init__(self, doc_ids: list[str], texts: list[str], k1: float, b: float, method: str = "lucene"):
        self.doc_ids = doc_ids
        self.index = BM25(k1, b, method).index([tokenize(t) for t in texts])

    def search(self, queries: dict[str, str], k: int, rm3: dict | None = None) -> dict:
        check_queries(queries)
        tokens = [tokenize(q) for q in queries.values()]
        weights = rm3_weights(self.index, tokens, **rm3) if rm3 else None
        return as_run(list(queries), self.doc_ids, *self.index.search(tokens, k, weights))


class DenseRetriever:
    """Exact inner-product search over unit vectors (cosine similarity); `encode` maps texts to unit vectors."""

    def __init__(self, doc_ids: list[str], doc_vectors: np.ndarray, encode: Callable[[list[str]], np.ndarray]):
        self.doc_ids, self.doc_vectors, self.encode = doc_ids, doc_vectors, encode

    def search_vectors(self, query_ids: list[str], vectors: np.ndarray, k: int) -> dict:
        return as_run(query_ids, self.doc_ids, *top_k(vectors @ self.doc_vectors.T, k))

    def search(self, queries: dict[str, str], k: int) -> dict:
        check_queries(queries)
        return self.search_vectors(list(queries), self.encode(list(queries.values())), k)


def hybrid(sparse_run: dict, dense_run: dict, method: str, dense_weight: float = 0.5, rrf_k: int = 60) -> dict:
    if method == "rrf":
        return fusion.reciprocal_rank_fusion([sparse_run, dense_run], k=rrf_k)
    if method == "weighted":
        return fusion.weighted_fusion(sparse_run, dense_run, dense_weight)
    raise ValueError(f"fusion method must be 'rrf' or 'weighted', got {method!r}")


class RAGPipeline:
    """answer(query) -> {'answer', 'citations', 'documents'} (see the module docstring)."""

    def __init__(
        self,
        retrieve: Callable[[str], dict[str, float]],
        documents: dict[str, str],
        idf: Callable[[str], float],
        top_documents: int = 3,
        answer_sentences: int = 2,
        generator=None,
    ):
        self.retrieve, self.documents, self.idf = retrieve, documents, idf
        self.top_documents, self.answer_sentences, self.generator = top_documents, answer_sentences, generator

    def answer(self, query: str) -> dict:
        if not isinstance(query, str) or not query.strip():
            raise ValueError("the RAG pipeline needs a non-empty question")
        scores = self.retrieve(query)
        ranked = sorted(scores, key=scores.get, reverse=True)[: self.top_documents]
        if self.generator is not None:
            passages = "\n".join(f"[{doc}] {self.documents[doc]}" for doc in ranked)
            prompt = (
                "Answer the question from the passages only, citing passage ids in brackets.\n"
                f"Passages:\n{passages}\nQuestion: {query}\nAnswer:"
            )
            text = self.generator.complete(prompt)
            return {"answer": text, "citations": [d for d in ranked if f"[{d}]" in text], "documents": ranked}
        terms = set(tokenize(query))
        candidates = []
        for rank, doc in enumerate(ranked):
            for sentence in split_sentences(self.documents[doc]):
                overlap = sum(self.idf(t) for t in terms.intersection(tokenize(sentence)))
                candidates.append((overlap, -rank, sentence, doc))
        best = sorted(candidates, reverse=True)[: self.answer_sentences]
        answer = " ".join(f"{sentence} [{doc}]" for _, _, sentence, doc in best)
        return {"answer": answer, "citations": list(dict.fromkeys(doc for *_, doc in best)), "documents": ranked}
