"""Beyond plain retrieval: query expansion (RM3; HyDE lives in src/production/query_enhancement.py) and chunking.

RM3 (Abdul-Jaleel et al., "UMass at TREC 2004"; Anserini's defaults fb_docs=10, fb_terms=10, weight 0.5):
1. retrieve the top fb_docs documents D with BM25 for query q;
2. the relevance model P(w|R) = sum_D P(w|D) P(D|q), with P(w|D) = tf(w,D)/|D| and P(D|q) the documents' BM25
   scores normalised to sum to 1 (RM1);
3. keep the fb_terms most probable terms, renormalise, and interpolate with the original query's term
   distribution: q'(w) = lambda * q(w) + (1 - lambda) * P(w|R) (RM3); search again with q' as term weights.

Chunking splits each document into passages, indexes the passages, and scores a document by its best passage
(MaxP, Dai & Callan, SIGIR 2019): "none" (whole document), "fixed" (windows of n words with an overlap) or
"sentences" (windows of n sentences).
"""

from collections import Counter

import numpy as np

from src.llm.bm25 import BM25, top_k
from src.llm.text import split_sentences


def rm3_weights(
    index: BM25,
    queries_tokens: list[list[str]],
    fb_docs: int = 10,
    fb_terms: int = 10,
    original_weight: float = 0.5,
) -> list[dict[str, float]]:
    """The expanded query of every query, as {term: weight} (see the module docstring)."""
    if not 0 <= original_weight <= 1:
        raise ValueError(f"original_weight must be in [0, 1], got {original_weight}")
    indices, scores = index.search(queries_tokens, fb_docs)
    terms = np.array(sorted(index.vocabulary, key=index.vocabulary.get))
    doc_term = index.tf.multiply(1 / np.maximum(index.doc_lengths, 1)[:, None]).tocsr()  # P(w|D)
    expanded = []
    for tokens, docs, doc_scores in zip(queries_tokens, indices, scores, strict=True):
        query = Counter(t for t in tokens if t in index.vocabulary)
        total = sum(query.values())
        original = {t: c / total for t, c in query.items()} if total else {}
        if doc_scores.sum() <= 0:
            expanded.append(original)
            continue
        relevance = np.asarray(doc_term[docs].T @ (doc_scores / doc_scores.sum())).ravel()  # P(w|R)
        best = np.argsort(-relevance)[:fb_terms]
        feedback = relevance[best] / relevance[best].sum()
        weights = {t: original_weight * w for t, w in original.items()}
        for term, w in zip(terms[best], feedback, strict=True):
            weights[term] = weights.get(term, 0.0) + (1 - original_weight) * float(w)
        expanded.append(weights)
    return expanded


def chunk(text: str, strategy: str, size: int, overlap: int = 0) -> list[str]:
    """Passages of one document: strategy 'none', 'fixed' (size words, overlap words shared) or 'sentences'
    (size sentences, overlap sentences shared)."""
    if strategy == "none":
        return [text]
    if size < 1 or not 0 <= overlap < size:
        raise ValueError(f"chunking needs size >= 1 and 0 <= overlap < size, got size={size}, overlap={overlap}")
    if strategy == "fixed":
        units, join = text.split(), " "
    elif strategy == "sentences":
        units, join = split_sentences(text), " "
    else:
        raise ValueError(f"chunking strategy must be none, fixed or sentences, got {strategy!r}")
    if len(units) <= size:
        return [join.join(units)]
    step = size - overlap
    return [join.join(units[i : i + size]) for i in range(0, len(units) - overlap, step)]


def chunk_corpus(texts: list[str], strategy: str, size: int, overlap: int = 0) -> tuple[list[str], np.ndarray]:
    """(passages, owner document index of each passage)."""
    passages, owners = [], []
    for doc, text in enumerate(texts):
        pieces = chunk(text, strategy, size, overlap)
        passages.extend(pieces)
        owners.extend([doc] * len(pieces))
    return passages, np.array(owners)


def max_passage_scores(passage_scores: np.ndarray, owners: np.ndarray, n_docs: int) -> np.ndarray:
    """(queries x passages) -> (queries x docs): a document scores as its best passage (MaxP)."""
    doc_scores = np.full((passage_scores.shape[0], n_docs), -np.inf)
    for q in range(passage_scores.shape[0]):
        np.maximum.at(doc_scores[q], owners, passage_scores[q])
    return doc_scores


def chunked_search(index: BM25, owners: np.ndarray, n_docs: int, queries_tokens, k: int):
    return top_k(max_passage_scores(index.scores(queries_tokens), owners, n_docs), k)
