"""NeuralNetwork: it learns (overfits a tiny batch, beats chance on MNIST with the roadmap's own snippet), it saves
and loads exactly, early stopping hands back the best epoch's model, it trains with day 2's optimizers, and bad
input gets a ValueError that says what is wrong."""

import json

import numpy as np
import pytest

from src.core.optimization import SGD, Adam, Optimizer
from src.data.mnist import as_float, load_mnist
from src.ml.deep_learning import (
    LSTM,
    BatchNorm,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    MaxPool2D,
    NeuralNetwork,
)


@pytest.fixture(scope="module")
def mnist():
    """3,000 training images (flat float32 rows in 0..1) and 1,000 test images: small enough for unit tests."""
    (X_train, y_train), (X_test, y_test) = load_mnist()
    return (
        as_float(X_train[:3000]).reshape(-1, 784),
        y_train[:3000],
        as_float(X_test[:1000]).reshape(-1, 784),
        y_test[:1000],
    )


def _mlp(seed=0, batchnorm=False, dropout=0.0):
    layers = [Dense(784, 64, activation="relu", seed=seed)]
    layers += [BatchNorm(64)] if batchnorm else []
    layers += [Dropout(dropout, seed=seed)] if dropout else []
    return NeuralNetwork([*layers, Dense(64, 10, seed=seed + 1)])


# -- it learns -------------------------------------------------------------------------------------------------
def test_a_tiny_network_overfits_a_tiny_batch(mnist):
    X, y = mnist[0][:32], mnist[1][:32]
    model = _mlp()
    history = model.fit(X, y, epochs=30, batch_size=32, lr=1e-2, validation_split=0, verbose=False)
    result = model.evaluate(X, y)
    assert result["accuracy"] == 1.0
    assert result["loss"] < 0.01
    assert history["loss"][-1] < history["loss"][0] / 50
    assert set(history) == {"loss", "accuracy", "seconds", "images_per_second"}  # no validation: no val_ keys


def test_the_roadmap_snippet_runs_as_written_and_beats_chance(mnist, capsys):
    X_train, y_train = mnist[0][:2000], mnist[1][:2000]
    model = NeuralNetwork()
    model.add(Dense(784, 100))
    model.add(Dense(100, 10))
    model.fit(X_train, y_train)

    accuracy = model.evaluate(mnist[2], mnist[3])["accuracy"]
    assert accuracy > 0.75  # chance is 0.1; a linear model on 1,800 images reaches about 0.85
    assert (model.predict(mnist[2]) == mnist[3]).mean() == pytest.approx(accuracy)
    assert "epoch 10/10" in capsys.readouterr().out  # the defaults: 10 epochs, progress printed


def test_predict_proba_is_a_distribution_and_leaves_the_model_in_eval_mode(mnist):
    model = _mlp(dropout=0.5)
    proba = model.predict_proba(mnist[2][:50], batch_size=16)  # batches of 16: the last one is partial
    assert proba.shape == (50, 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(model.predict_proba(mnist[2][:50], batch_size=16), proba)  # no dropout now
    np.testing.assert_allclose(model.predict_proba(mnist[2][:50]), proba, rtol=1e-5)  # one batch: same numbers
    assert all(not layer.training for layer in model.layers)


@pytest.mark.parametrize(("name", "cls"), [("sgd", SGD), ("adam", Adam)])
def test_fit_trains_with_day_2_optimizers(mnist, name, cls):
    X, y = mnist[0][:500], mnist[1][:500]
    model = _mlp()
    before = model.evaluate(X, y)["loss"]
    extra = {"momentum": 0.9} if name == "sgd" else {}
    model.fit(X, y, epochs=3, batch_size=32, optimizer=name, lr=0.05 if name == "sgd" else 1e-3, verbose=False, **extra)
    assert isinstance(model.optimizer, Optimizer) and type(model.optimizer) is cls
    assert model.optimizer.step_count == 3 * int(np.ceil(450 / 32))  # 10% held out for validation
    # the optimizer updates the layers' own arrays, in place
    assert all(a is p.data for a, p in zip(model.optimizer.params, model.parameters(), strict=True))
    if name == "sgd":
        assert model.optimizer.momentum == 0.9
    assert model.evaluate(X, y)["loss"] < before / 2


def test_cosine_schedule_anneals_the_learning_rate(mnist):
    model = _mlp()
    model.fit(mnist[0][:64], mnist[1][:64], epochs=4, lr=1e-2, cosine_schedule=True, verbose=False)
    assert model.optimizer.lr < 1e-2 / 10


# -- save and load ---------------------------------------------------------------------------------------------
def _assert_same_model(model, loaded, X):
    assert loaded.architecture() == model.architecture()
    for ours, theirs in zip(model.parameters(), loaded.parameters(), strict=True):
        assert theirs.dtype == ours.dtype
        np.testing.assert_array_equal(theirs.data, ours.data)
    for layer, loaded_layer in zip(model.layers, loaded.layers, strict=True):
        for name, buffer in layer.buffers().items():
            np.testing.assert_array_equal(loaded_layer.buffers()[name], buffer)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_save_and_load_give_identical_predictions_with_batchnorm_statistics(mnist, tmp_path):
    X, y = mnist[0][:300], mnist[1][:300]
    model = _mlp(batchnorm=True, dropout=0.2)
    model.fit(X, y, epochs=2, verbose=False)
    batchnorm = model.layers[1]
    assert not np.allclose(batchnorm.running_mean, 0) and not np.allclose(batchnorm.running_var, 1)

    path = model.save(tmp_path / "mlp.npz")
    assert path == tmp_path / "mlp.npz" and path.exists()  # no extra ".npz" appended
    loaded = NeuralNetwork.load(path)
    _assert_same_model(model, loaded, mnist[2][:200])
    assert type(loaded.layers[2]) is Dropout and loaded.layers[2].config == {"p": 0.2}


def test_save_and_load_a_cnn(mnist, tmp_path):
    images = mnist[0][:64].reshape(-1, 1, 28, 28)
    model = NeuralNetwork(
        [
            Conv2D(1, 4, 3, padding=1, activation="relu", seed=0),
            BatchNorm(4),
            MaxPool2D(2),
            Conv2D(4, 4, 3, stride=2, seed=1),
            Flatten(),
            Dense(4 * 6 * 6, 10, seed=2),
        ]
    )
    model.fit(images, mnist[1][:64], epochs=1, batch_size=32, validation_split=0, verbose=False)
    loaded = NeuralNetwork.load(model.save(tmp_path / "cnn.npz"))
    _assert_same_model(model, loaded, mnist[2][:32].reshape(-1, 1, 28, 28))


def test_save_and_load_an_lstm(tmp_path):
    rng = np.random.default_rng(0)
    sequences, labels = rng.standard_normal((40, 7, 3)).astype(np.float32), rng.integers(0, 4, 40)
    model = NeuralNetwork([LSTM(3, 8, return_sequences=True, seed=0), LSTM(8, 6, seed=1), Dense(6, 4, seed=2)])
    model.fit(sequences, labels, epochs=2, batch_size=16, verbose=False)
    loaded = NeuralNetwork.load(model.save(tmp_path / "lstm.npz"))
    _assert_same_model(model, loaded, sequences)
    assert loaded.layers[0].config["return_sequences"] is True


def test_float64_models_round_trip_in_float64(tmp_path):
    model = NeuralNetwork([Dense(5, 3, dtype="float64", seed=0), BatchNorm(3, dtype="float64")])
    loaded = NeuralNetwork.load(model.save(tmp_path / "f64.npz"))
    assert loaded.dtype == np.float64
    _assert_same_model(model, loaded, np.random.default_rng(0).standard_normal((4, 5)))


def test_load_of_a_missing_file_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="no saved model at"):
        NeuralNetwork.load(tmp_path / "nothing.npz")


def _text_file(path):
    path.write_text("not a model")


def _other_npz(path):
    with open(path, "wb") as file:
        np.savez(file, weights=np.ones(3))


def _plain_npy(path):
    with open(path, "wb") as file:
        np.save(file, np.ones(3))


def _truncated_model(path):
    NeuralNetwork([Dense(4, 3, seed=0)]).save(path)
    path.write_bytes(path.read_bytes()[:200])


def _architecture_without_weights(path):
    saved = NeuralNetwork([Dense(4, 3, seed=0)])
    with open(path, "wb") as file:
        np.savez(file, architecture=np.array(json.dumps(saved.architecture())))


def _weights_of_the_wrong_shape(path):
    NeuralNetwork([Dense(4, 3, seed=0)]).save(path)
    with np.load(path) as saved:
        arrays = dict(saved)
    arrays["layer0.param0"] = np.ones((1, 3), dtype=np.float32)  # would broadcast silently into (4, 3)
    with open(path, "wb") as file:
        np.savez(file, **arrays)


@pytest.mark.parametrize(
    "write",
    [_text_file, _other_npz, _plain_npy, _truncated_model, _architecture_without_weights, _weights_of_the_wrong_shape],
    ids=lambda write: write.__name__.strip("_"),
)
def test_load_of_a_file_that_is_not_a_model_raises_a_clear_error(tmp_path, write):
    path = tmp_path / "model.npz"
    write(path)
    with pytest.raises(ValueError, match=r"model\.npz.*(not a model saved by NeuralNetwork\.save|weights)"):
        NeuralNetwork.load(path)


# -- early stopping ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("batchnorm", [False, True])
def test_early_stopping_restores_the_best_epoch(mnist, batchnorm):
    """60 training images overfit within a few epochs: the validation loss turns up, training stops after
    `patience` worse epochs, and the model handed back is the best epoch's (BatchNorm's running statistics
    included, which are state but not parameters)."""
    X_val, y_val = mnist[0][2000:2500], mnist[1][2000:2500]
    model = _mlp(batchnorm=batchnorm)
    history = model.fit(
        mnist[0][:60],
        mnist[1][:60],
        epochs=40,
        batch_size=16,
        lr=3e-3,
        validation_data=(X_val, y_val),
        early_stopping_patience=3,
        verbose=False,
    )
    val_losses = history["val_loss"]
    best = int(np.argmin(val_losses))
    assert len(val_losses) == best + 1 + 3 < 40  # stopped exactly `patience` epochs after the best
    assert val_losses[-1] > val_losses[best]  # so restoring changes the answer
    assert model.evaluate(X_val, y_val)["loss"] == pytest.approx(val_losses[best], rel=1e-6)


def test_without_validation_data_early_stopping_does_nothing(mnist):
    history = _mlp().fit(
        mnist[0][:64], mnist[1][:64], epochs=3, validation_split=0, early_stopping_patience=1, verbose=False
    )
    assert len(history["loss"]) == 3


# -- bad input -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        (np.zeros((10, 784)), np.zeros(9, dtype=int), "X has 10 rows but y has 9 labels"),
        (np.zeros((10, 784)), np.zeros(10), "y must hold integer class labels"),
        (np.full((10, 784), np.nan), np.zeros(10, dtype=int), "NaN or infinity"),
        (np.full((10, 784), np.inf), np.zeros(10, dtype=int), "NaN or infinity"),
        (np.array([["a"] * 784] * 10), np.zeros(10, dtype=int), "inputs must be numeric"),
        (np.zeros((0, 784)), np.zeros(0, dtype=int), "X is empty"),
        (np.zeros((10, 28, 28)), np.zeros(10, dtype=int), r"Dense expects input \(batch, 784\).*Flatten"),
        (np.zeros((10, 100)), np.zeros(10, dtype=int), r"Dense expects input \(batch, 784\)"),
        (np.zeros((10, 784)), np.full(10, 10), r"labels must lie in 0\.\.9"),
        (np.zeros((10, 784)), np.full(10, -1), r"labels must lie in 0\.\.9"),
    ],
    ids=[
        "wrong y length",
        "float labels",
        "NaN",
        "inf",
        "strings",
        "empty",
        "images into Dense",
        "wrong width",
        "label too big",
        "negative label",
    ],
)
def test_fit_rejects_bad_data(X, y, message):
    with pytest.raises(ValueError, match=message):
        _mlp().fit(X, y, epochs=1, verbose=False)


def test_predict_and_evaluate_reject_bad_data():
    model = _mlp()
    with pytest.raises(ValueError, match="NaN or infinity"):
        model.predict(np.full((3, 784), np.nan))
    with pytest.raises(ValueError, match="Dense expects input"):
        model.predict(np.zeros((3, 783)))
    with pytest.raises(ValueError, match="y must hold integer class labels"):
        model.evaluate(np.zeros((3, 784)), np.array([0.5, 1.0, 2.0]))


def test_conv2d_and_lstm_reject_the_wrong_input_shape():
    cnn = NeuralNetwork([Conv2D(1, 2, 3, seed=0), Flatten(), Dense(2 * 26 * 26, 10, seed=1)])
    with pytest.raises(ValueError, match=r"Conv2D expects images \(batch, channels, height, width\)"):
        cnn.predict(np.zeros((4, 784)))
    with pytest.raises(ValueError, match="input has 3 channels but the filters expect 1"):
        cnn.predict(np.zeros((4, 3, 28, 28)))
    with pytest.raises(ValueError, match="smaller than the kernel"):
        cnn.predict(np.zeros((4, 1, 2, 2)))
    rnn = NeuralNetwork([LSTM(3, 4, seed=0), Dense(4, 2, seed=1)])
    with pytest.raises(ValueError, match=r"LSTM expects \(batch, time, 3\)"):
        rnn.predict(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"LSTM expects \(batch, time, 3\)"):
        rnn.predict(np.zeros((4, 5, 2)))


def test_unknown_names_and_bad_settings_raise():
    with pytest.raises(ValueError, match="unknown activation 'relu6'"):
        Dense(3, 2, activation="relu6")
    with pytest.raises(ValueError, match="unknown init 'kaiming'"):
        Conv2D(1, 2, init="kaiming")
    model = _mlp()
    X, y = np.zeros((10, 784)), np.zeros(10, dtype=int)
    with pytest.raises(ValueError, match="unknown optimizer 'adamax'"):
        model.fit(X, y, optimizer="adamax", verbose=False)
    with pytest.raises(ValueError, match="epochs and batch_size must be >= 1"):
        model.fit(X, y, epochs=0, verbose=False)
    for split in (1.0, 1.5, -0.1):
        with pytest.raises(ValueError, match="validation_split must lie in"):
            model.fit(X, y, validation_split=split, verbose=False)
    with pytest.raises(ValueError, match="no layers"):
        NeuralNetwork().fit(X, y, verbose=False)
    with pytest.raises(TypeError, match="add\\(\\) takes a layer"):
        NeuralNetwork().add("Dense")
