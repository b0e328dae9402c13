"""Day 6: attention, GPT-2 and BERT from scratch, trained on Tiny Shakespeare.

    from src.llm.attention import MultiHeadAttention, RotaryPositionalEmbedding
    from src.llm.transformer import TransformerEncoder, BERT, GPT2

Modules, one concept each: tokenizer (characters <-> ids, the 90/10 split), positional (sinusoidal, learned,
RoPE), attention (scaled dot-product attention in NumPy on the day-4 engine and in torch, masks, multi-head),
blocks (GPT's pre-LN block, BERT's post-LN encoder layer), transformer (GPT2, BERT, TransformerEncoder),
training (batches, a wall-clock-budgeted training loop, masked-language-model masking), complexity (the O(n^2)
cost measured).
"""
