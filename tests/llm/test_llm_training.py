"""The training helpers: windows and the 90/10 split, the budget-fraction learning-rate schedule, BERT's 80/10/10
masking, the context-free baselines, a short training run that learns, and the O(n^2) measuring tools."""

import math

import numpy as np
import pytest
import torch

from src.llm import complexity, training
from src.llm.tokenizer import CharTokenizer, load_text, train_val_split
from src.llm.transformer import GPT2


def test_tokenizer_round_trip_and_nanogpt_split():
    text = load_text()
    tokenizer = CharTokenizer(text)
    assert tokenizer.vocab_size == 65
    ids = tokenizer.encode(text)
    assert tokenizer.decode(ids[:100]) == text[:100]
    train, val = train_val_split(ids)
    assert len(train) == int(0.9 * len(ids)) and len(train) + len(val) == len(ids)


def test_random_windows_are_shifted_by_one():
    ids = np.arange(100)
    x, y = training.random_windows(ids, 4, 8, np.random.default_rng(0))
    assert x.shape == y.shape == (4, 8) and torch.equal(y[:, :-1], x[:, 1:])
    with pytest.raises(ValueError, match="too short"):
        training.random_windows(np.arange(5), 1, 8, np.random.default_rng(0))


def test_learning_rate_warms_up_then_decays_by_cosine_to_the_floor():
    lr = [training.lr_at(f, 1.0, 0.1, 0.1) for f in (0.0, 0.05, 0.1, 0.55, 1.0)]
    assert lr == pytest.approx([0.0, 0.5, 1.0, 0.55, 0.1])


def test_masking_follows_berts_80_10_10_rule():
    ids = torch.randint(0, 60, (200, 100), generator=torch.Generator().manual_seed(0))
    inputs, labels = training.mask_tokens(ids, mask_id=65, vocab_size=65, rng=torch.Generator().manual_seed(1))
    chosen = labels != training.IGNORE
    assert chosen.float().mean().item() == pytest.approx(0.15, abs=0.005)
    assert torch.equal(labels[chosen], ids[chosen]) and torch.equal(inputs[~chosen], ids[~chosen])
    masked = (inputs[chosen] == 65).float().mean().item()
    kept = (inputs[chosen] == ids[chosen]).float().mean().item()  # 10 % unchanged + random hits of the same id
    assert masked == pytest.approx(0.8, abs=0.02) and kept == pytest.approx(0.1 + 0.1 / 65, abs=0.02)


def test_unigram_baselines():
    train = np.array([0, 0, 0, 1])
    scores = training.unigram_baselines(train, np.array([0, 1]), vocab_size=2)
    p = np.array([4, 2]) / 6  # add-one smoothing
    assert scores["most_frequent_accuracy"] == 0.5
    assert scores["unigram_sampling_accuracy"] == pytest.approx(p.mean())
    assert scores["unigram_loss"] == pytest.approx(-np.log(p).mean())


def test_a_short_budget_learns_and_respects_max_iters():
    rng = np.random.default_rng(0)
    ids = np.tile(np.arange(10), 200)  # a repeating sequence: next token is fully predictable
    torch.manual_seed(0)
    model = GPT2(10, 8, n_layer=1, n_head=2, n_embd=16)
    history = training.train_by_budget(
        model,
        lambda: training.random_windows(ids, 16, 8, rng),
        training.next_token_loss,
        peak_lr=1e-2,
        max_seconds=60,
        max_iters=150,
        evaluate=lambda: training.evaluate_lm(model, ids, 8, 16, 2, seed=0),
        n_checkpoints=2,
    )
    assert history.iterations == 150 and history.tokens == 150 * 16 * 8
    assert len(history.val_loss) == 3 and history.val_loss[-1] < 0.2 * math.log(10)


def test_loglog_slope_recovers_the_exponent():
    n = np.array([64, 128, 256, 512])
    assert complexity.loglog_slope(n, 3e-9 * n**2) == pytest.approx(2.0)


def test_naive_attention_memory_grows_with_the_square_of_the_length():
    rows = complexity.attention_scaling([512, 2048], heads=2, head_dim=16, max_seconds=5)
    naive = {r["seq_len"]: r["peak_mib"] for r in rows if r["implementation"] == "naive"}
    assert naive[2048] > 8 * naive[512]  # 16x in theory; the inputs and output grow only 4x
    assert naive[2048] >= 2 * 2048 * 2048 * 4 / 2**20  # at least the (heads, n, n) float32 score matrix


def test_attention_maps_are_causal_and_rows_sum_to_one():
    torch.manual_seed(0)
    model = GPT2(10, 8, n_layer=2, n_head=2, n_embd=16)
    maps = complexity.attention_maps(model, torch.randint(0, 10, (1, 6)))
    assert maps.shape == (2, 2, 6, 6)
    np.testing.assert_allclose(maps.sum(-1), 1.0, rtol=1e-5)
    assert np.all(np.triu(maps, k=1) == 0)
    assert all(block.attn.fused for block in model.blocks)  # restored


def test_generation_speed_reports_identical_tokens():
    torch.manual_seed(0)
    model = GPT2(10, 32, n_layer=1, n_head=2, n_embd=16)
    speed = complexity.generation_speed(model, torch.zeros(1, 2, dtype=torch.long), 10, repeats=1)
    assert speed["identical_tokens"] == 1.0 and speed["tokens_per_second_cache"] > 0
