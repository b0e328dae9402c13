"""day10.minilm.layers < 6: a shallower MiniLM made of the pretrained model's bottom layers. The kept layers must be
the bottom ones, unchanged (their output equals the full model's hidden state at that depth), and the rest must be
gone, so that the served model really does less work."""

import pytest
import torch

from src.capstone.transformer import MiniLMClassifier, load_pretrained

TEXTS = ["App crashes with a segfault when opening a file", "How do I configure the proxy?"]


def shallow(layers: int, trainable_layers: int) -> MiniLMClassifier:
    return MiniLMClassifier(
        max_length=16,
        layers=layers,
        trainable_layers=trainable_layers,
        epochs=1,
        batch_size=2,
        lr=1e-4,
        head_lr=1e-3,
        weight_decay=0.0,
        seed=0,
    )


def test_a_shallow_minilm_keeps_the_bottom_layers_and_drops_the_rest():
    minilm = shallow(layers=3, trainable_layers=1)
    assert (len(minilm.frozen), len(minilm.pretrained_top)) == (2, 1)
    tokenizer, full = load_pretrained()
    tokens = tokenizer(TEXTS, truncation=True, max_length=16, padding="longest", return_tensors="pt")
    with torch.no_grad():
        reference = full(**tokens, output_hidden_states=True).hidden_states  # [embeddings, layer 1, ..., layer 6]
    cached = minilm.encode(TEXTS)
    torch.testing.assert_close(cached["hidden"], reference[2], rtol=1e-5, atol=1e-5)
    fitted = minilm.fit(TEXTS, ["bug", "question"])
    assert len(fitted.top.layers) == 1 and fitted.predict_proba(TEXTS).shape == (2, 3)


@pytest.mark.parametrize(
    ("layers", "trainable_layers", "message"),
    [(7, 2, "layers must be between 1 and 6"), (2, 3, r"trainable_layers must be between 1 and layers \(2\)")],
)
def test_impossible_layer_counts_are_refused(layers, trainable_layers, message):
    with pytest.raises(ValueError, match=message):
        shallow(layers, trainable_layers)
