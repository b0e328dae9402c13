"""Day 4's figures draw what they are given: one line per curve, one image per mistake or filter, counts that
agree with scikit-learn, and log axes that survive zeros and infinities."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.image import AxesImage
from sklearn.metrics import confusion_matrix as sklearn_confusion_matrix

from src.visualization import deep_learning as dl


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def images_in(fig) -> list[AxesImage]:
    return [image for ax in fig.axes for image in ax.images]


def test_training_curves_draw_train_and_validation_per_model_from_epoch_one():
    histories = {
        "scratch_mlp": {"loss": [1.0, 0.5, 0.0], "accuracy": [0.7, 0.8, 0.9], "val_loss": [1.1, 0.6]},
        "torch_cnn": {"loss": [0.8, 0.3], "accuracy": [0.8, 0.95], "val_loss": [], "val_accuracy": [0.9, 0.96]},
    }
    fig = dl.training_curves(histories)
    ax_loss, ax_acc = fig.axes
    assert ax_loss.get_yscale() == "log"
    assert [line.get_label() for line in ax_loss.lines] == [
        "scratch_mlp (train)",
        "scratch_mlp (validation)",
        "torch_cnn (train)",
    ]
    assert [line.get_label() for line in ax_acc.lines] == [
        "scratch_mlp (train)",
        "torch_cnn (train)",
        "torch_cnn (validation)",
    ]
    train, validation = ax_loss.lines[:2]
    np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(validation.get_xdata(), [1, 2])  # a shorter validation history is drawn as it is
    assert train.get_ydata()[-1] == dl.LOSS_FLOOR  # a zero loss sits on the floor of the log axis
    assert validation.get_linestyle() == "--" and train.get_color() == validation.get_color()
    assert ax_loss.lines[2].get_color() != train.get_color()


def test_training_curves_name_the_model_with_a_missing_key():
    with pytest.raises(ValueError, match=r"'torch_cnn' lacks \['accuracy'\]"):
        dl.training_curves({"torch_cnn": {"loss": [1.0]}})
    with pytest.raises(ValueError, match="at least one model"):
        dl.training_curves({})


def test_confusion_counts_equal_sklearns_with_rows_as_true_class():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 10, 500)
    y_pred = np.where(rng.random(500) < 0.8, y_true, rng.integers(0, 9, 500))  # class 9 is under-predicted
    counts = dl.confusion_matrix_counts(y_true, y_pred)
    np.testing.assert_array_equal(counts, sklearn_confusion_matrix(y_true, y_pred, labels=range(10)))
    np.testing.assert_array_equal(dl.confusion_matrix_counts([2], [0], n_classes=3), [[0, 0, 0], [0, 0, 0], [1, 0, 0]])


def test_confusion_counts_refuse_labels_they_cannot_place():
    with pytest.raises(ValueError, match=r"y_pred has labels outside 0..9"):
        dl.confusion_matrix_counts([1, 2], [1, 10])
    with pytest.raises(ValueError, match="same length"):
        dl.confusion_matrix_counts([1, 2], [1])
    with pytest.raises(ValueError, match="integer class labels"):
        dl.confusion_matrix_counts([1, 2], [0.2, 0.8])


def test_confusion_matrix_shows_row_rates_writes_nonzero_counts_and_accuracy():
    y_true = np.array([0, 0, 0, 1, 1, 7, 7, 7, 7, 9])
    y_pred = np.array([0, 0, 1, 1, 1, 7, 7, 7, 1, 4])
    fig = dl.confusion_matrix(y_true, y_pred, "tiny model")
    ax = fig.axes[0]
    rates = np.asarray(images_in(fig)[0].get_array())
    assert rates.shape == (10, 10)
    np.testing.assert_allclose(rates[[0, 1, 7, 9]].sum(axis=1), 1.0)
    assert rates[7, 1] == pytest.approx(0.25)
    written = sorted(text.get_text() for text in ax.texts)
    assert written == sorted(["2", "1", "2", "3", "1", "1"])  # the six non-zero cells, zeros left blank
    assert "tiny model" in ax.get_title() and "accuracy 0.7000" in ax.get_title()
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"


def test_misclassified_grid_shows_exactly_the_mistakes_titled_true_to_pred():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (20, 28, 28), dtype=np.uint8)
    y_true = np.arange(20) % 10
    y_pred = y_true.copy()
    y_pred[[3, 8, 15]] = [5, 1, 0]
    confidence = np.linspace(0.5, 0.99, 20)
    fig = dl.misclassified_grid(images, y_true, y_pred, confidence=confidence, title="scratch_cnn")
    assert len(images_in(fig)) == 3 and len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes] == [
        f"3→5 ({confidence[3]:.2f})",
        f"8→1 ({confidence[8]:.2f})",
        f"5→0 ({confidence[15]:.2f})",
    ]
    np.testing.assert_array_equal(images_in(fig)[1].get_array(), images[8])
    assert all(not ax.get_xticks().size and not ax.get_yticks().size for ax in fig.axes)


def test_misclassified_grid_caps_the_count_and_accepts_cnn_shaped_floats():
    images = np.random.default_rng(2).standard_normal((50, 1, 28, 28))
    y_true, y_pred = np.zeros(50, dtype=int), np.ones(50, dtype=int)
    fig = dl.misclassified_grid(images, y_true, y_pred, max_images=7)
    assert len(images_in(fig)) == 7
    assert fig.axes[0].get_title() == "0→1"  # no confidence given, no number
    assert "first 7 of 50" in fig.get_suptitle()


def test_misclassified_grid_says_so_when_there_are_no_mistakes():
    fig = dl.misclassified_grid(np.zeros((4, 28, 28)), [1, 2, 3, 4], [1, 2, 3, 4])
    assert not images_in(fig)
    assert "No misclassified images" in fig.axes[0].texts[0].get_text()
    with pytest.raises(ValueError, match="one entry per image"):
        dl.misclassified_grid(np.zeros((4, 28, 28)), [1, 2, 3], [1, 2, 3])


def test_first_layer_filters_one_symmetric_scale_per_model():
    rng = np.random.default_rng(3)
    small = rng.normal(0, 0.1, (8, 1, 5, 5))
    large = rng.normal(0, 2.0, (20, 3, 3, 3))
    fig = dl.first_layer_filters({"scratch_cnn": small, "torch_cnn": large})
    images = images_in(fig)
    assert len(images) == 28
    assert images[0].get_clim() == pytest.approx((-np.abs(small[:, 0]).max(), np.abs(small[:, 0]).max()))
    assert images[8].get_clim() == pytest.approx((-np.abs(large[:, 0]).max(), np.abs(large[:, 0]).max()))
    np.testing.assert_array_equal(images[9].get_array(), large[1, 0])  # channel 0 of filter 1
    row_labels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert row_labels[0].startswith("scratch_cnn") and row_labels[1].startswith("torch_cnn")
    with pytest.raises(ValueError, match=r"'scratch_cnn' must be \(F, C, KH, KW\)"):
        dl.first_layer_filters({"scratch_cnn": small[:, 0]})


def test_gradient_norms_one_line_per_setting_and_zeros_or_inf_are_clipped_and_noted():
    rows = [{"setting": "ReLU, He init", "layer": layer, "grad_norm": 0.5 + 0.1 * layer} for layer in (3, 1, 2)]
    rows += [
        {"setting": "ReLU, N(0, 1) init", "layer": 1, "grad_norm": float("inf")},
        {"setting": "ReLU, N(0, 1) init", "layer": 2, "grad_norm": 1e30},
        {"setting": "ReLU, N(0, 1) init", "layer": 3, "grad_norm": float("nan")},
        {"setting": "sigmoid, Xavier init", "layer": 1, "grad_norm": 0.0},
        {"setting": "sigmoid, Xavier init", "layer": 2, "grad_norm": 1e-9},
        {"setting": "sigmoid, Xavier init", "layer": 3, "grad_norm": 1e-3},
    ]
    fig = dl.gradient_norms(rows)
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.lines if not line.get_label().startswith("_")}
    assert list(lines) == ["ReLU, He init", "ReLU, N(0, 1) init", "sigmoid, Xavier init"]
    np.testing.assert_array_equal(lines["ReLU, He init"].get_xdata(), [1, 2, 3])  # sorted by layer
    np.testing.assert_allclose(lines["ReLU, He init"].get_ydata(), [0.6, 0.7, 0.8])
    for line in lines.values():
        assert np.all(np.isfinite(line.get_ydata())) and np.all(line.get_ydata() > 0)
    assert ax.get_yscale() == "log"
    assert "▼" in ax.get_title() and "▲" in ax.get_title() and "vanishing" in ax.get_title()
    fig.canvas.draw()  # the log axis renders with the clipped values


def test_gradient_norms_without_any_usable_value_still_draws():
    fig = dl.gradient_norms(
        [{"setting": "broken", "layer": 1, "grad_norm": 0.0}, {"setting": "broken", "layer": 2, "grad_norm": np.inf}]
    )
    fig.canvas.draw()
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), [1e-12, 1e12])


def test_model_comparison_two_bar_panels_with_values_printed():
    rows = [
        {"model": "scratch_mlp", "test_accuracy": 0.975, "images_per_second": 4000.0, "train_seconds": 90.0},
        {"model": "scratch_cnn", "test_accuracy": 0.985, "images_per_second": 300.0, "train_seconds": 1200.0},
        {"model": "torch_cnn", "test_accuracy": 0.991, "images_per_second": 20000.0, "train_seconds": 18.0},
    ]
    fig = dl.model_comparison(rows)
    ax_acc, ax_speed = fig.axes
    assert len(ax_acc.patches) == 3 and len(ax_speed.patches) == 3
    assert ax_acc.get_xlim() == pytest.approx((0.965, 1.0))
    assert [p.get_width() for p in ax_speed.patches] == [4000.0, 300.0, 20000.0]
    assert [t.get_text().strip() for t in ax_acc.texts] == ["0.9750", "0.9850", "0.9910"]
    assert "20,000 img/s (18 s)" in " ".join(t.get_text() for t in ax_speed.texts)
    assert [label.get_text() for label in ax_acc.get_yticklabels()] == ["scratch_mlp", "scratch_cnn", "torch_cnn"]
