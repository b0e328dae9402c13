"""GPT2 and BERT held against Hugging Face transformers built from a config (random weights, no download) with the
same weights copied in; generation with and without the KV cache; clear errors."""

import pytest
import torch
import transformers

from src.llm.tokenizer import CharTokenizer
from src.llm.transformer import BERT, GPT2, TransformerEncoder

VOCAB, BLOCK, LAYERS, HEADS, WIDTH = 37, 16, 2, 4, 32


def _copy(dst, src, transpose=False):
    with torch.no_grad():
        dst.copy_(src.T if transpose else src)


def test_gpt2_logits_equal_transformers_gpt2(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    config = transformers.GPT2Config(
        vocab_size=VOCAB,
        n_positions=BLOCK,
        n_embd=WIDTH,
        n_layer=LAYERS,
        n_head=HEADS,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
    )
    ref = transformers.GPT2LMHeadModel(config).double().eval()
    ours = GPT2(VOCAB, BLOCK, LAYERS, HEADS, WIDTH).double().eval()
    _copy(ours.wte.weight, ref.transformer.wte.weight)
    _copy(ours.wpe.weight.weight, ref.transformer.wpe.weight)
    for mine, theirs in zip(ours.blocks, ref.transformer.h, strict=True):
        for a, b in ((mine.ln_1, theirs.ln_1), (mine.ln_2, theirs.ln_2)):
            _copy(a.weight, b.weight)
            _copy(a.bias, b.bias)
        for a, b in (
            (mine.attn.qkv, theirs.attn.c_attn),
            (mine.attn.proj, theirs.attn.c_proj),
            (mine.mlp.fc, theirs.mlp.c_fc),
            (mine.mlp.proj, theirs.mlp.c_proj),
        ):
            _copy(a.weight, b.weight, transpose=True)  # HF's Conv1D stores (in, out)
            _copy(a.bias, b.bias)
    _copy(ours.ln_f.weight, ref.transformer.ln_f.weight)
    _copy(ours.ln_f.bias, ref.transformer.ln_f.bias)

    idx = torch.randint(0, VOCAB, (3, BLOCK), generator=torch.Generator().manual_seed(0))
    logits, loss = ours(idx, targets=idx)
    expected = ref(idx, labels=None).logits
    torch.testing.assert_close(logits, expected, rtol=1e-5, atol=1e-5)
    assert ours.lm_head.weight is ours.wte.weight  # tied
    assert loss.item() == pytest.approx(torch.nn.functional.cross_entropy(expected.flatten(0, 1), idx.flatten()).item())


def test_bert_logits_equal_transformers_bert_for_masked_lm():
    config = transformers.BertConfig(
        vocab_size=VOCAB,
        hidden_size=WIDTH,
        num_hidden_layers=LAYERS,
        num_attention_heads=HEADS,
        intermediate_size=4 * WIDTH,
        max_position_embeddings=BLOCK,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        attn_implementation="eager",
    )
    ref = transformers.BertForMaskedLM(config).double().eval()
    ours = BERT(VOCAB, BLOCK, WIDTH, HEADS, LAYERS, dropout=0.0).double().eval()
    emb, enc, head = ref.bert.embeddings, ref.bert.encoder, ref.cls.predictions
    _copy(ours.tok.weight, emb.word_embeddings.weight)
    _copy(ours.pos.weight.weight, emb.position_embeddings.weight)
    _copy(ours.seg.weight, emb.token_type_embeddings.weight)
    for a, b in (
        (ours.ln, emb.LayerNorm),
        (ours.head_dense, head.transform.dense),
        (ours.head_ln, head.transform.LayerNorm),
    ):
        _copy(a.weight, b.weight)
        _copy(a.bias, b.bias)
    _copy(ours.decoder.bias, head.bias)
    for mine, theirs in zip(ours.encoder.layers, enc.layer, strict=True):
        att = theirs.attention.self
        _copy(mine.attn.qkv.weight, torch.cat([att.query.weight, att.key.weight, att.value.weight]))
        _copy(mine.attn.qkv.bias, torch.cat([att.query.bias, att.key.bias, att.value.bias]))
        for a, b in (
            (mine.attn.proj, theirs.attention.output.dense),
            (mine.ln_1, theirs.attention.output.LayerNorm),
            (mine.mlp.fc, theirs.intermediate.dense),
            (mine.mlp.proj, theirs.output.dense),
            (mine.ln_2, theirs.output.LayerNorm),
        ):
            _copy(a.weight, b.weight)
            _copy(a.bias, b.bias)

    idx = torch.randint(0, VOCAB, (2, BLOCK), generator=torch.Generator().manual_seed(1))
    attention_mask = torch.ones_like(idx)
    attention_mask[1, 10:] = 0  # the second sequence is padded
    ours_logits = ours(idx, attention_mask)
    expected = ref(input_ids=idx, attention_mask=attention_mask).logits
    torch.testing.assert_close(ours_logits, expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ours(idx), ref(input_ids=idx).logits, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("positional", ["learned", "sinusoidal", "rope", "none"])
def test_generation_with_and_without_the_kv_cache_gives_identical_tokens(positional):
    torch.manual_seed(0)
    model = GPT2(VOCAB, BLOCK, LAYERS, HEADS, WIDTH, positional=positional).double().eval()
    prompt = torch.randint(0, VOCAB, (2, 3))
    runs = []
    for use_cache in (True, False):
        generator = torch.Generator().manual_seed(7)
        runs.append(
            model.generate(prompt, 2 * BLOCK, temperature=0.8, top_k=10, use_cache=use_cache, generator=generator)
        )
    assert runs[0].shape == (2, 3 + 2 * BLOCK)  # past block_size too (the context is cropped)
    assert torch.equal(runs[0], runs[1])


def test_cached_logits_equal_full_logits():
    torch.manual_seed(0)
    model = GPT2(VOCAB, BLOCK, LAYERS, HEADS, WIDTH, positional="rope").double().eval()
    idx = torch.randint(0, VOCAB, (2, 10))
    full, _ = model.forward_cached(idx)
    first, caches = model.forward_cached(idx[:, :6])
    rest, _ = model.forward_cached(idx[:, 6:], caches)
    torch.testing.assert_close(torch.cat([first, rest], dim=1), full)


def test_top_k_one_is_greedy():
    torch.manual_seed(0)
    model = GPT2(VOCAB, BLOCK, LAYERS, HEADS, WIDTH).eval()
    idx = torch.randint(0, VOCAB, (1, 4))
    out = model.generate(idx, 1, top_k=1)
    logits, _ = model(idx)
    assert out[0, -1] == logits[0, -1].argmax()


def test_gpt2_initialisation_scales_the_residual_projections():
    model = GPT2(VOCAB, BLOCK, n_layer=8, n_head=HEADS, n_embd=256)
    assert model.blocks[0].mlp.fc.weight.std().item() == pytest.approx(0.02, rel=0.05)
    assert model.blocks[0].mlp.proj.weight.std().item() == pytest.approx(0.02 / 4, rel=0.05)  # 0.02 / sqrt(16)


def test_clear_errors():
    model = GPT2(VOCAB, BLOCK, LAYERS, HEADS, WIDTH)
    with pytest.raises(ValueError, match="longer than block_size 16"):
        model(torch.zeros(1, BLOCK + 1, dtype=torch.long))
    with pytest.raises(ValueError, match="divisible"):
        GPT2(VOCAB, BLOCK, LAYERS, n_head=3, n_embd=32)
    with pytest.raises(ValueError, match=r"characters \['Z'\] are not in the model's vocabulary"):
        CharTokenizer("abc ").encode("a Zebra"[:3])
    with pytest.raises(ValueError, match="positional must be one of"):
        GPT2(VOCAB, BLOCK, positional="alibi")


def test_sinusoidal_and_rope_models_run_past_their_training_length():
    for positional in ("sinusoidal", "rope", "none"):
        model = GPT2(VOCAB, BLOCK, LAYERS, HEADS, WIDTH, positional=positional)
        logits, _ = model(torch.zeros(1, 2 * BLOCK, dtype=torch.long))
        assert logits.shape == (1, 2 * BLOCK, VOCAB)


def test_transformer_encoder_keeps_the_shape():
    encoder = TransformerEncoder(d_model=32, num_heads=4, num_layers=2)
    assert encoder(torch.randn(2, 5, 32)).shape == (2, 5, 32)
