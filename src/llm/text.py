"""Tokenisation for the sparse retrievers: lower-case word tokens, English stop words removed, Snowball-stemmed.

The same function feeds our BM25, bm25s and rank-bm25, so a score difference can only come from the scoring.
Stemming uses NLTK's Snowball English stemmer (Porter2, the one Lucene/Anserini and PyStemmer use), with a cache
per distinct word: a corpus has ~30k distinct words, so each is stemmed once.
"""

import re
from functools import lru_cache

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's and bm25s' default: words of two or more characters
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[])")


@lru_cache(maxsize=1)
def _stemmer():
    from nltk.stem.snowball import EnglishStemmer

    return EnglishStemmer()


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return _stemmer().stem(word)


def tokenize(text: str, stopwords=ENGLISH_STOP_WORDS, stemming: bool = True) -> list[str]:
    words = [w for w in TOKEN.findall(text.lower()) if w not in stopwords]
    return [stem(w) for w in words] if stemming else words


def split_sentences(text: str) -> list[str]:
    """A rule-based splitter for abstracts: a sentence ends at . ! ? followed by a space and a capital or digit."""
    return [s.strip() for s in SENTENCE_END.split(text) if s.strip()]
