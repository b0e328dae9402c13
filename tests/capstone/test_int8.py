"""The int8 MiniLM: the served copy of a fitted MiniLMClassifier with its Linear layers quantised. It must answer
like the float model, leave the float model untouched, survive pickling (the pyfunc is a pickle), and refuse to
train. How much CV F1 it costs and how much faster it is are measured by the stage, not here."""

import pickle

import numpy as np
import pytest
import torch
from torch import nn

from src.capstone.transformer import MiniLMClassifier

TEXTS = [
    "App crashes with a segfault when opening a file",
    "TypeError thrown after upgrading to the latest version",
    "Build fails on Windows with linker error",
    "Add a dark mode option to the settings page",
    "Support exporting results as CSV",
    "Feature request: keyboard shortcut to close all tabs",
    "How do I configure the proxy for downloads?",
    "Is there a way to run this without a GPU?",
    "What is the difference between these two APIs?",
]
LABELS = ["bug"] * 3 + ["feature"] * 3 + ["question"] * 3


SETTINGS = {"max_length": 24, "layers": 6, "trainable_layers": 1, "epochs": 2, "batch_size": 3, "lr": 1e-4}
SETTINGS |= {"head_lr": 1e-2, "weight_decay": 0.0, "seed": 0}


@pytest.fixture(scope="module")
def fitted():
    return MiniLMClassifier(**SETTINGS).fit(TEXTS, LABELS)


def linear_kinds(module: nn.Module) -> set[str]:
    """The classes of the Linear layers in `module` (not their packed-weight holders)."""
    names = {type(m).__module__ + "." + type(m).__name__ for m in module.modules()}
    return {name for name in names if name.endswith(".Linear")}


def test_the_int8_copy_answers_like_the_float_model_and_leaves_it_float(fitted):
    quantized = fitted.quantized()
    float_proba, int8_proba = fitted.predict_proba(TEXTS), quantized.predict_proba(TEXTS)
    assert np.abs(float_proba - int8_proba).max() < 0.05  # rounding error, not a different model
    assert not np.array_equal(float_proba, int8_proba)  # ... but it did change the arithmetic
    assert (float_proba.argmax(1) == int8_proba.argmax(1)).mean() >= 8 / 9
    assert linear_kinds(fitted.frozen) == {"torch.nn.modules.linear.Linear"}  # the original is still float
    for part in (quantized.frozen, quantized.top):
        assert linear_kinds(part) == {"torch.ao.nn.quantized.dynamic.modules.linear.Linear"}
    query = quantized.frozen[0].attention.self.query.weight()
    assert query.qscheme() == torch.per_channel_affine and query.q_per_channel_scales().shape == (384,)


def test_the_int8_copy_survives_pickling_and_refuses_to_train(fitted):
    quantized = fitted.quantized()
    restored = pickle.loads(pickle.dumps(quantized))
    np.testing.assert_array_equal(restored.predict_proba(TEXTS), quantized.predict_proba(TEXTS))
    with pytest.raises(RuntimeError, match="for prediction only"):
        quantized.fit(TEXTS, LABELS)


def test_the_int8_copy_answers_the_same_on_any_number_of_threads(fitted):
    # `make repro` reproduces the int8 scores on one machine because of this (they may differ on another CPU: the
    # int8 kernels differ; README, "int8 scores depend on the CPU"). The stage runs on 2 threads, a worker on 1.
    quantized, threads = fitted.quantized(), torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one_thread = quantized.predict_proba(TEXTS)
        torch.set_num_threads(2)
        np.testing.assert_array_equal(quantized.predict_proba(TEXTS), one_thread)
    finally:
        torch.set_num_threads(threads)


def test_only_a_fitted_model_on_the_cpu_is_quantised():
    unfitted = MiniLMClassifier(**SETTINGS)
    with pytest.raises(RuntimeError, match="call fit"):
        unfitted.quantized()
    unfitted.top, unfitted.device = torch.nn.Identity(), "cuda"
    with pytest.raises(ValueError, match=r"call .to\('cpu'\) first"):
        unfitted.quantized()
