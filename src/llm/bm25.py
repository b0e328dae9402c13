"""BM25 from scratch on a sparse term-document matrix: the index is one scipy CSR matrix of per-(doc, term)
weights, and scoring a batch of queries is one sparse product, (queries x vocab) @ (vocab x docs).

For a query q and document d (Robertson & Zaragoza, "The Probabilistic Relevance Framework: BM25 and Beyond", 2009):

    score(q, d) = sum_{t in q} idf(t) * tf(t,d) * C / (tf(t,d) + k1 * (1 - b + b * |d| / avgdl))

The weight of (d, t) does not depend on the query, so it is computed once at indexing. Two variants:
- "lucene" (Lucene >= 8, Anserini, bm25s' default): idf = ln(1 + (N - df + 0.5) / (df + 0.5)), C = 1;
  never negative (Kamphuis et al., "Which BM25 Do You Mean?", ECIR 2020).
- "okapi" (rank-bm25's BM25Okapi): idf = ln((N - df + 0.5) / (df + 0.5)), a negative idf replaced by
  epsilon * mean idf, and C = k1 + 1.
A query term that occurs twice counts twice, as in both references.
"""

from collections import Counter

import numpy as np
from scipy import sparse

from src.llm.text import tokenize


class BM25:
    def __init__(self, k1: float = 1.2, b: float = 0.75, method: str = "lucene", epsilon: float = 0.25):
        if method not in ("lucene", "okapi"):
            raise ValueError(f"method must be 'lucene' or 'okapi', got {method!r}")
        if k1 < 0 or not 0 <= b <= 1:
            raise ValueError(f"BM25 needs k1 >= 0 and 0 <= b <= 1, got k1={k1}, b={b}")
        self.k1, self.b, self.method, self.epsilon = k1, b, method, epsilon
        self.vocabulary: dict[str, int] = {}

    # -- indexing ---------------------------------------------------------------------------------------
    def index(self, corpus_tokens: list[list[str]]) -> "BM25":
        """Build the (docs x vocab) weight matrix from tokenised documents."""
        if not corpus_tokens:
            raise ValueError("cannot index an empty corpus")
        rows, cols, counts = [], [], []
        for doc, tokens in enumerate(corpus_tokens):
            for term, count in Counter(tokens).items():
                rows.append(doc)
                cols.append(self.vocabulary.setdefault(term, len(self.vocabulary)))
                counts.append(count)
        n_docs, n_terms = len(corpus_tokens), len(self.vocabulary)
        tf = sparse.csr_matrix((np.array(counts, float), (rows, cols)), shape=(n_docs, n_terms))
        self.tf = tf
        self.doc_lengths = np.array([len(t) for t in corpus_tokens], dtype=float)
        self.avgdl = self.doc_lengths.mean()
        df = np.bincount(tf.indices, minlength=n_terms).astype(float)
        self.idf = self._idf(df, n_docs)
        # per stored entry: its document's length normalisation and its term's idf
        norm = self.k1 * (1 - self.b + self.b * self.doc_lengths / self.avgdl)
        doc_of_entry = np.repeat(np.arange(n_docs), np.diff(tf.indptr))
        numerator = tf.data * (self.k1 + 1 if self.method == "okapi" else 1.0)
        weights = self.idf[tf.indices] * numerator / (tf.data + norm[doc_of_entry])
        self.term_doc = sparse.csr_matrix((weights, tf.indices, tf.indptr), shape=tf.shape).T.tocsr()  # vocab x docs
        return self

    def _idf(self, df: np.ndarray, n_docs: int) -> np.ndarray:
        if self.method == "lucene":
            return np.log(1 + (n_docs - df + 0.5) / (df + 0.5))
        idf = np.log((n_docs - df + 0.5) / (df + 0.5))
        return np.where(idf < 0, self.epsilon * idf.mean(), idf)

    # -- scoring ----------------------------------------------------------------------------------------
    def query_matrix(self, queries_tokens: list[list[str]], weights: list[dict[str, float]] | None = None):
        """(queries x vocab) term counts (or given term weights, for RM3's expanded queries); unknown terms drop."""
        rows, cols, values = [], [], []
        for i, tokens in enumerate(queries_tokens):
            counts = weights[i] if weights is not None else Counter(tokens)
            for term, value in counts.items():
                if term in self.vocabulary:
                    rows.append(i)
                    cols.append(self.vocabulary[term])
                    values.append(value)
        return sparse.csr_matrix((values, (rows, cols)), shape=(len(queries_tokens), len(self.vocabulary)))

    def scores(self, queries_tokens: list[list[str]], weights=None) -> np.ndarray:
        """Dense (queries x docs) BM25 scores."""
        return (self.query_matrix(queries_tokens, weights) @ self.term_doc).toarray()

    def search(self, queries_tokens: list[list[str]], k: int, weights=None) -> tuple[np.ndarray, np.ndarray]:
        """(indices, scores), each (queries x k), best first."""
        return top_k(self.scores(queries_tokens, weights), k)

    def search_text(self, queries: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        return self.search([tokenize(q) for q in queries], k)


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise k best columns of a score matrix, sorted best first (argpartition, then a sort of k)."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-part_scores, axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1), np.take_along_axis(part_scores, order, axis=1)


def as_run(query_ids: list[str], doc_ids: list[str], indices: np.ndarray, scores: np.ndarray) -> dict:
    """Top-k arrays -> the {query id: {doc id: score}} run the metrics take."""
    return {
        qid: {doc_ids[j]: float(s) for j, s in zip(indices[i], scores[i], strict=True)}
        for i, qid in enumerate(query_ids)
    }
