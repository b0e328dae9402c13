"""Day 4 stage: an MLP, a CNN and a row-by-row LSTM trained on MNIST with the from-scratch engine
(src/ml/deep_learning/), and the same CNN in PyTorch on the same batches.

    dvc repro day04_deep_learning                                  # what `make repro` runs, on params.yaml
    python -m pipelines.day04_deep_learning profile=smoke          # straight from conf/, in seconds
    python -m pipelines.day04_deep_learning -m day04.cnn.lr=0.001,0.003   # a Hydra sweep: one MLflow run each

Records (see src/tracking.py): nested MLflow runs scratch_mlp, scratch_cnn, torch_cnn, scratch_lstm and
scratch_linear_stack, each with per-epoch curves (loss, accuracy, val_loss, val_accuracy, images_per_second),
its test accuracy, training time and saved model (models/day04_deep_learning/, a DVC output); figures for curves,
confusion matrix, misclassified digits, first-layer filters and gradient norms at initialisation.
"""

from dataclasses import dataclass

import hydra
import numpy as np
import torch
from omegaconf import DictConfig

from src.config import setting, validate_or_exit
from src.data.mnist import N_TEST_IMAGES, N_TRAIN_IMAGES, train_validation_test
from src.ml.deep_learning import architectures, torch_training
from src.ml.deep_learning.augmentation import random_shift
from src.ml.deep_learning.gradient_flow import gradient_norms_at_init, norms_by_setting
from src.tracking import StageRun
from src.visualization import deep_learning as figures

STAGE = "day04_deep_learning"
SECTION = "day04"


# -- the stage's config schema: conf/day04/default.yaml gives every value -----------------------------------
@dataclass
class TrainingConfig:
    epochs: int = setting(at_least=1)
    batch_size: int = setting(at_least=1)
    lr: float = setting(above=0)


@dataclass
class MLPConfig(TrainingConfig):
    hidden: list[int] = setting(at_least=1)  # units per hidden layer
    dropout: float = setting(at_least=0, below=1)


@dataclass
class CNNConfig(TrainingConfig):
    channels: list[int] = setting(at_least=1)
    dense: int = setting(at_least=1)
    dropout: float = setting(at_least=0, below=1)
    max_shift: int = setting(at_least=0, at_most=14)

    def __post_init__(self):
        if not 1 <= len(self.channels) <= 3:
            raise ValueError(f"day04.cnn.channels needs 1 to 3 entries (28 px halves per layer), got {self.channels}")


@dataclass
class LSTMConfig(TrainingConfig):
    hidden: int = setting(at_least=1)


@dataclass
class GradientFlowConfig:
    depth: int = setting(at_least=2)
    width: int = setting(at_least=1)
    batch_size: int = setting(at_least=1)


@dataclass
class FiguresConfig:
    misclassified: int = setting(at_least=1)


@dataclass
class Day04Config:
    train_size: int = setting(at_least=2, at_most=N_TRAIN_IMAGES)
    validation_size: int = setting(at_least=1)
    test_size: int = setting(at_least=1, at_most=N_TEST_IMAGES)
    mlp: MLPConfig
    cnn: CNNConfig
    lstm: LSTMConfig
    linear_stack: TrainingConfig
    gradient_flow: GradientFlowConfig
    figures: FiguresConfig

    def __post_init__(self):
        if not self.validation_size < self.train_size:
            raise ValueError(
                f"day04.validation_size ({self.validation_size}) must be below day04.train_size ({self.train_size})"
            )


SCHEMA = Day04Config


def images(split: tuple[np.ndarray, np.ndarray], channels: bool) -> tuple[np.ndarray, np.ndarray]:
    """(n, 28, 28) as it is (MLP, LSTM) or as (n, 1, 28, 28) channel images (CNN)."""
    X, y = split
    return (X[:, None] if channels else X), y


# -- training, recorded ----------------------------------------------------------------------------------------
def epoch_logger(run: StageRun, variant: str):
    """Per-epoch curves go to MLflow as soon as each epoch ends, so they can be watched while the stage runs."""

    def log(epoch: int, logs: dict):
        for key, value in logs.items():
            run.log_series(key, [value], variant=variant, steps=[epoch])

    return log


def record(run: StageRun, variant: str, history: dict, test: dict, probabilities: np.ndarray) -> dict:
    summary = {
        "test_accuracy": test["accuracy"],
        "test_loss": test["loss"],
        "train_seconds": float(sum(history["seconds"])),
        "train_images_per_second": float(np.median(history["images_per_second"])),  # the median epoch
        "epochs": len(history["loss"]),
        "best_val_accuracy": max(history["val_accuracy"]),
    }
    run.log_metrics(summary, variant=variant)
    return {"history": history, "probabilities": probabilities, **summary}


def train_scratch(run, variant, model, data, settings, channels=False, augment=None, seed=0) -> dict:
    X, y = images(data["train"], channels)
    path = run.model_path(f"{variant}.npz")
    history = model.fit(
        X,
        y,
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        lr=settings.lr,
        validation_data=images(data["validation"], channels),
        cosine_schedule=True,
        augment=augment,
        seed=seed,
        verbose=True,
        on_epoch_end=epoch_logger(run, variant),
        checkpoint=path,  # saved every epoch, atomically: a crash loses one epoch at most
    )
    X_test, y_test = images(data["test"], channels)
    result = record(run, variant, history, model.evaluate(X_test, y_test), model.predict_proba(X_test))
    run.log_artifact(path, "model", variant=variant)
    return result


def train_torch_cnn(run, cfg: CNNConfig, data, augment, seed) -> tuple[dict, torch.nn.Module]:
    model = architectures.torch_cnn(cfg.channels, cfg.dense, cfg.dropout, seed)
    X, y = images(data["train"], channels=True)
    path = run.model_path("torch_cnn.pt")
    history = torch_training.fit(
        model,
        X,
        y,
        images(data["validation"], channels=True),
        cfg.epochs,
        cfg.batch_size,
        cfg.lr,
        cosine_schedule=True,
        augment=augment,
        seed=seed,
        verbose=True,
        on_epoch_end=epoch_logger(run, "torch_cnn"),
        checkpoint=path,
    )
    X_test, y_test = images(data["test"], channels=True)
    test = torch_training.evaluate(model, X_test, y_test)
    result = record(run, "torch_cnn", history, test, torch_training.predict_proba(model, X_test))
    run.log_artifact(path, "model", variant="torch_cnn")
    return result, model


def train_all(run: StageRun, cfg: Day04Config, data, seed: int) -> tuple[dict, dict]:
    """Every model in turn; returns their results and the first-layer filters of both CNNs."""

    def shift(batch, rng):
        return random_shift(batch, rng, cfg.cnn.max_shift)

    results = {}
    models = [
        ("scratch_linear_stack", architectures.linear_stack(seed), cfg.linear_stack, False, None),
        ("scratch_mlp", architectures.mlp(cfg.mlp.hidden, cfg.mlp.dropout, seed), cfg.mlp, False, None),
        (
            "scratch_cnn",
            architectures.cnn(cfg.cnn.channels, cfg.cnn.dense, cfg.cnn.dropout, seed),
            cfg.cnn,
            True,
            shift,
        ),
        ("scratch_lstm", architectures.row_lstm(cfg.lstm.hidden, seed), cfg.lstm, False, None),
    ]
    filters = {}
    for variant, model, settings, channels, augment in models:
        if variant == "scratch_cnn":  # the reference first: no NumPy thread pool left spinning while it is timed
            print("[day04] training torch_cnn (the CNN in PyTorch, on the batches the scratch CNN gets)", flush=True)
            results["torch_cnn"], torch_model = train_torch_cnn(run, cfg.cnn, data, shift, seed)
            filters["torch_cnn"] = torch_model[0].weight.detach().numpy()
        print(f"[day04] training {variant} ({settings.epochs} epochs)", flush=True)
        results[variant] = train_scratch(run, variant, model, data, settings, channels, augment, seed)
        if variant == "scratch_cnn":
            filters[variant] = model.layers[0].weight.data
    return results, filters


# -- the stage's summary and figures ---------------------------------------------------------------------------
def record_comparison(run: StageRun, results: dict):
    rows = [
        {
            "model": name,
            "images_per_second": r["train_images_per_second"],
            **{k: r[k] for k in ("test_accuracy", "train_seconds", "epochs")},
        }
        for name, r in results.items()
    ]
    run.write_plot_data("model_comparison", rows)
    run.log_figure(figures.model_comparison(rows), "model_comparison")
    scratch, reference = results["scratch_cnn"], results["torch_cnn"]
    run.log_metrics(
        {
            "cnn_throughput_ratio_scratch_over_torch": scratch["train_images_per_second"]
            / reference["train_images_per_second"],
            "cnn_accuracy_gap_points": 100 * (scratch["test_accuracy"] - reference["test_accuracy"]),
        }
    )
    for name, r in results.items():  # one CSV per model: `dvc plots` draws each file as its own line
        epochs = range(1, len(r["history"]["loss"]) + 1)
        keys = ("loss", "accuracy", "val_loss", "val_accuracy")
        run.write_plot_data(
            f"curves_{name}", [{"epoch": e, **{k: r["history"][k][e - 1] for k in keys}} for e in epochs]
        )
    run.log_figure(figures.training_curves({name: r["history"] for name, r in results.items()}), "training_curves")


def record_errors(run: StageRun, results: dict, data, cfg: Day04Config):
    X_test, y_test = data["test"]
    probabilities = results["scratch_cnn"]["probabilities"]
    predicted = probabilities.argmax(axis=1)
    title = f"From-scratch CNN on {len(y_test):,} MNIST test digits"
    run.log_figure(figures.confusion_matrix(y_test, predicted, title), "confusion_matrix_scratch_cnn")
    torch_predicted = results["torch_cnn"]["probabilities"].argmax(axis=1)
    run.log_figure(
        figures.confusion_matrix(y_test, torch_predicted, "PyTorch CNN, same digits"), "confusion_matrix_torch_cnn"
    )
    confidence = probabilities.max(axis=1)
    run.log_figure(
        figures.misclassified_grid(
            X_test,
            y_test,
            predicted,
            confidence,
            cfg.figures.misclassified,
            "Test digits the from-scratch CNN gets wrong",
        ),
        "misclassified_scratch_cnn",
    )
    both_wrong = (predicted != y_test) & (torch_predicted != y_test)
    run.log_metrics(
        {"errors_shared_with_torch_cnn": int(both_wrong.sum()), "errors": int((predicted != y_test).sum())},
        variant="scratch_cnn",
    )


def record_gradient_flow(run: StageRun, cfg: GradientFlowConfig, data, seed: int):
    X, y = data["train"]
    rows = gradient_norms_at_init(X[: cfg.batch_size], y[: cfg.batch_size], cfg.depth, cfg.width, seed)
    run.log_figure(figures.gradient_norms(rows), "gradient_norms_at_init")
    by_setting = norms_by_setting(rows)
    layers = range(len(next(iter(by_setting.values()))))
    run.write_plot_data(
        "gradient_norms_at_init", [{"layer": i + 1, **{k: v[i] for k, v in by_setting.items()}} for i in layers]
    )
    run.log_metrics(
        {f"grad_norm_first_over_last_{k}": v[0] / v[-1] for k, v in by_setting.items()}, variant="gradient_flow"
    )


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    day04 = validate_or_exit(cfg, SECTION, SCHEMA)  # before any work: a bad key fails here, named
    with StageRun(STAGE, cfg, SECTION, day04) as run:
        torch.manual_seed(cfg.seed)
        data = train_validation_test(day04.train_size, day04.validation_size, day04.test_size, cfg.seed)
        record_gradient_flow(run, day04.gradient_flow, data, cfg.seed)
        results, filters = train_all(run, day04, data, cfg.seed)
        run.log_figure(figures.first_layer_filters(filters), "first_layer_filters")
        record_comparison(run, results)
        record_errors(run, results, data, day04)


if __name__ == "__main__":
    main()
