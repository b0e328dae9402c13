"""The cross-encoder held against Hugging Face's BertForSequenceClassification: same weights, same logits and
gradients (a random float64 model), and the same scores on real MiniLM weights and real SciFact-like pairs."""

import numpy as np
import pytest
import torch
import transformers

from src.llm import cross_encoder as ce

SMALL = {
    "vocab_size": 50,
    "max_position_embeddings": 24,
    "hidden_size": 16,
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "intermediate_size": 32,
    "type_vocab_size": 2,
    "layer_norm_eps": 1e-12,
}


def reference(config: dict):
    torch.manual_seed(0)
    bert = transformers.BertConfig(
        **config, num_labels=1, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, attn_implementation="eager"
    )
    return transformers.BertForSequenceClassification(bert).double().eval()


def batch():
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, SMALL["vocab_size"], (3, 20), generator=g)
    mask = torch.ones_like(ids)
    mask[1, 12:] = 0  # padded rows
    mask[2, 5:] = 0
    segments = torch.zeros_like(ids)
    segments[:, 8:] = 1  # the document part
    return ids, mask, segments * mask


def test_logits_and_gradients_equal_transformers_bert_for_sequence_classification():
    ref = reference(SMALL)
    ours = ce.CrossEncoder(SMALL, dropout=0.0).double().eval().load_hf_state_dict(ref.state_dict())
    ids, mask, segments = batch()
    expected = ref(input_ids=ids, attention_mask=mask, token_type_ids=segments).logits.squeeze(-1)
    got = ours(ids, mask, segments)
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-10)
    (got * torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)).sum().backward()
    (expected * torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)).sum().backward()
    att = ref.bert.encoder.layer[0].attention.self
    qkv = ours.encoder.layers[0].attn.qkv.weight.grad
    torch.testing.assert_close(qkv, torch.cat([att.query.weight.grad, att.key.weight.grad, att.value.weight.grad]))
    torch.testing.assert_close(ours.tok.weight.grad, ref.bert.embeddings.word_embeddings.weight.grad)
    torch.testing.assert_close(ours.classifier.weight.grad, ref.classifier.weight.grad)


def test_state_dict_round_trips_under_hugging_face_names():
    ref = reference(SMALL)
    ours = ce.CrossEncoder(SMALL).double().load_hf_state_dict(ref.state_dict())
    theirs = {k: v for k, v in ref.state_dict().items() if "position_ids" not in k}
    mine = ours.hf_state_dict()
    assert set(mine) == set(theirs)
    for name, value in theirs.items():
        torch.testing.assert_close(mine[name], value, rtol=0, atol=0)


def test_minilm_scores_equal_transformers_on_the_same_weights(tmp_path):
    tokenizer, ours = ce.load_minilm(seed=3, dropout=0.0)
    from src.llm.embeddings import model_path

    ref = transformers.AutoModelForSequenceClassification.from_pretrained(
        model_path(), num_labels=1, attn_implementation="eager"
    ).eval()
    ref.load_state_dict(ours.hf_state_dict(), strict=False)  # our random head into theirs; the rest is MiniLM's
    queries = ["Vitamin D deficiency raises the risk of fractures.", "ALDH1 expression in breast cancer"]
    docs = [
        "Low serum vitamin D was associated with hip fracture in a cohort of 2,000 elderly women.",
        "Aldehyde dehydrogenase 1 marks normal and malignant human mammary stem cells and predicts poor outcome.",
    ]
    pairs = ce.encode_pairs(tokenizer, queries * 2, docs + docs[::-1], max_length=48)
    with torch.no_grad():
        expected = ref(**pairs).logits.squeeze(-1).double().numpy()
    got = ce.score_pairs(ours, tokenizer, queries * 2, docs + docs[::-1], max_length=48, batch_size=3)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)

    ce.save(ours, tmp_path / "ce.pt", {"dev_query_ids": ["1", "2"]})
    loaded, extra = ce.load(tmp_path / "ce.pt")
    assert extra == {"dev_query_ids": ["1", "2"]}
    np.testing.assert_allclose(ce.score_pairs(loaded, tokenizer, queries, docs, 48), got[:2], rtol=1e-6, atol=1e-6)


def test_training_puts_the_positive_first_on_a_learnable_task():
    # a toy vocabulary: the relevant document carries token 3, the others token 4 (the loop must learn that)
    class Toy:
        def __call__(self, queries, docs, **_):
            rows = [
                [1] + [int(w) for w in q.split()] + [2] + [int(w) for w in d.split()] + [2]
                for q, d in zip(queries, docs, strict=True)
            ]
            width = max(map(len, rows))
            ids = torch.tensor([r + [0] * (width - len(r)) for r in rows])
            q_len = [len(q.split()) + 2 for q in queries]
            segments = torch.tensor([[0] * n + [1] * (width - n) for n in q_len]) * (ids > 0)
            return {"input_ids": ids, "attention_mask": (ids > 0).long(), "token_type_ids": segments}

    rng = np.random.default_rng(0)
    groups = []
    for _ in range(64):
        words = rng.choice(np.arange(5, 50), size=5, replace=False)
        query = f"{words[0]} {words[1]}"
        docs = [f"{words[2]} 3"] + [f"{w} 4" for w in words[3:5]]
        groups.append((query, docs))
    torch.manual_seed(0)
    model = ce.CrossEncoder(SMALL)
    losses = ce.train_groups(
        model, Toy(), groups, epochs=10, batch_groups=16, lr=3e-3, head_lr=3e-3, weight_decay=0.0,
        warmup_fraction=0.1, max_length=24, seed=0,
    )  # fmt: skip
    assert np.mean(losses[-8:]) < 0.5 * np.log(3)  # chance: log(3)
    scores = ce.score_pairs(model, Toy(), [q for q, d in groups for _ in d], [x for _, d in groups for x in d], 24)
    assert np.mean(scores.reshape(-1, 3).argmax(1) == 0) > 0.8


def test_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="lacks"):
        ce.CrossEncoder({"hidden_size": 8})
    with pytest.raises(FileNotFoundError, match="dvc repro day07_rerank_train"):
        ce.load(tmp_path / "absent.pt")
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot read the cross-encoder"):
        ce.load(tmp_path / "bad.pt")
