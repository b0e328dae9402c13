"""Day 5 stage: a fast CIFAR-10 classifier on a CPU (airbench-style), ResNet18 for a short budget next to it,
a small ResNet from scratch (day-4 NumPy engine) next to the same net in PyTorch, and the cost of JPEG.

    dvc repro day05_vision                                   # what `make repro` runs, on params.yaml
    python -m pipelines.day05_vision profile=smoke           # straight from conf/, in seconds
    python -m pipelines.day05_vision day05.fast.epochs=4     # a shorter schedule

Records (src/tracking.py): nested MLflow runs fast_net, torch_resnet18, scratch_small_resnet and
torch_small_resnet, each with per-epoch curves and final metrics (metrics.json keys `<variant>.<metric>`);
figures: accuracy against training time, per-class accuracy, confusion matrix, misclassified images,
first-layer filters. Data: data/processed/cifar10 (written by the day05_prepare stage).
"""

from dataclasses import dataclass

import hydra
import numpy as np
import torch
from omegaconf import DictConfig

from src.config import setting, validate_or_exit
from src.data.cifar10 import CLASSES, evaluation_indices, load_processed
from src.ml.deep_learning import torch_training
from src.ml.vision import ResNet18, small_resnet
from src.ml.vision.fast_cifar import FastRecipe, predict_logits, to_normalised_tensor, train_fast_net
from src.ml.vision.resnet import SmallResNet, count_parameters
from src.ml.vision.training import inference_images_per_second, save_model, train_classifier
from src.tracking import StageRun
from src.visualization import vision as figures

STAGE = "day05_vision"
SECTION = "day05"
N_TRAIN, N_TEST, N_LOSSLESS_TRAIN, N_LOSSLESS_TEST = 50_000, 10_000, 4_000, 1_000


@dataclass
class FastConfig:
    epochs: float = setting(above=0)
    batch_size: int = setting(at_least=1)
    lr: float = setting(above=0)
    momentum: float = setting(at_least=0, below=1)
    weight_decay: float = setting(at_least=0)
    bias_scaler: float = setting(above=0)
    label_smoothing: float = setting(at_least=0, below=1)
    whiten_bias_epochs: int = setting(at_least=0)
    widths: list[int] = setting(at_least=1)
    bn_momentum: float = setting(at_least=0, below=1)
    translate: int = setting(at_least=0, at_most=4)
    flip: bool
    tta_level: int = setting(one_of=(0, 1, 2))
    lookahead: bool
    bf16: bool
    target_accuracy: float = setting(above=0, at_most=1)
    time_budget_minutes: float = setting(above=0)

    def __post_init__(self):
        if len(self.widths) != 3:
            raise ValueError(f"day05.fast.widths needs 3 entries (one per conv group), got {self.widths}")


@dataclass
class ResNet18Config:
    train_size: int = setting(at_least=1, at_most=N_TRAIN)
    eval_size: int = setting(at_least=1, at_most=N_TEST)
    epochs: int = setting(at_least=1)
    batch_size: int = setting(at_least=1)
    lr: float = setting(above=0)
    bf16: bool


@dataclass
class ScratchResNetConfig:
    widths: list[int] = setting(at_least=1)
    train_size: int = setting(at_least=1, at_most=N_LOSSLESS_TRAIN)
    epochs: int = setting(at_least=1)
    batch_size: int = setting(at_least=1)
    lr: float = setting(above=0)


@dataclass
class FiguresConfig:
    misclassified: int = setting(at_least=1)


@dataclass
class Day05Config:
    train_size: int = setting(at_least=1, at_most=N_TRAIN)
    test_size: int = setting(at_least=1, at_most=N_TEST)
    fast: FastConfig
    resnet18: ResNet18Config
    scratch_resnet: ScratchResNetConfig
    figures: FiguresConfig

    def __post_init__(self):
        if self.fast.batch_size > self.train_size:
            raise ValueError(
                f"day05.fast.batch_size ({self.fast.batch_size}) exceeds day05.train_size ({self.train_size})"
            )
        if self.scratch_resnet.batch_size > self.scratch_resnet.train_size:
            raise ValueError("day05.scratch_resnet.batch_size exceeds day05.scratch_resnet.train_size")


SCHEMA = Day05Config


def fast_recipe(cfg: FastConfig) -> FastRecipe:
    fields = FastRecipe.__dataclass_fields__
    return FastRecipe(**{k: (tuple(v) if k == "widths" else v) for k, v in vars(cfg).items() if k in fields})


def curve_rows(history: list[dict]) -> list[dict]:
    return [
        {"epoch": r["epoch"], "minutes": round(r["seconds"] / 60, 4), "test_accuracy": r["eval_accuracy"]}
        for r in history
    ]


def log_history(run: StageRun, history: list[dict], variant: str):
    steps = [r["epoch"] for r in history]
    for key in history[0]:
        if key != "epoch":
            run.log_series(key, [r[key] for r in history], variant=variant, steps=steps)


def run_fast_net(run: StageRun, cfg: Day05Config, data: dict, seed: int, device: str):
    """Train the fast net on the JPEG training set; score the JPEG test set with TTA; JPEG vs lossless."""
    subset = evaluation_indices(cfg.test_size, seed)
    x_test, y_test = data["test_x"][subset], data["test_y"][subset]
    model, history = train_fast_net(
        data["train_x"][: cfg.train_size],
        data["train_y"][: cfg.train_size],
        fast_recipe(cfg.fast),
        seed,
        x_test,
        y_test,
        device=device,
    )
    log_history(run, history, "fast_net")
    logits = predict_logits(model, to_normalised_tensor(x_test), cfg.fast.tta_level, cfg.fast.bf16)
    probabilities = torch.softmax(logits, 1).numpy()
    predictions = probabilities.argmax(1)
    accuracy = float((predictions == y_test).mean())
    train_minutes = history[-1]["seconds"] / 60
    # The first 1,000 JPEG test images are the lossless subset's images, in the same order (orig_index).
    if not np.array_equal(data["test_index"][:N_LOSSLESS_TEST], data["lossless_test_index"]):
        raise ValueError("the JPEG and lossless test images are not aligned by orig_index: re-run day05_prepare")
    scored = {}
    for name in ("lossless_test", "test"):
        images, labels = data[f"{name}_x"][:N_LOSSLESS_TEST], data[f"{name}_y"][:N_LOSSLESS_TEST]
        tta = predict_logits(model, to_normalised_tensor(images), cfg.fast.tta_level, cfg.fast.bf16)
        scored[name] = float((tta.argmax(1).numpy() == labels).mean())
    run.log_metrics(
        {
            "test_accuracy": accuracy,
            "test_accuracy_no_tta": history[-1]["eval_accuracy"],
            "train_minutes": train_minutes,
            "train_cpu_minutes": history[-1]["cpu_seconds"] / 60,
            "images_per_second": float(np.mean([r["images_per_second"] for r in history])),
            "epochs": cfg.fast.epochs,
            "parameters": count_parameters(model),
            "meets_accuracy_target": float(accuracy >= cfg.fast.target_accuracy),
            "within_time_budget": float(train_minutes <= cfg.fast.time_budget_minutes),
            "lossless_1000_accuracy": scored["lossless_test"],
            "jpeg_1000_accuracy": scored["test"],
            "jpeg_cost": scored["lossless_test"] - scored["test"],
        },
        variant="fast_net",
    )
    save_model(model, run.model_path("fast_net.pt"))
    run.write_plot_data("curves_fast_net", curve_rows(history))
    return model, history, predictions, probabilities.max(1)


def run_resnet18(run: StageRun, cfg: Day05Config, data: dict, seed: int, device: str):
    """ResNet18 on a short budget: the first resnet18.train_size JPEG training images, scored on eval_size."""
    c = cfg.resnet18
    subset = evaluation_indices(c.eval_size, seed)
    x_eval, y_eval = data["test_x"][subset], data["test_y"][subset]
    torch.manual_seed(seed)
    model = ResNet18(num_classes=len(CLASSES))
    history = train_classifier(
        model,
        data["train_x"][: c.train_size],
        data["train_y"][: c.train_size],
        epochs=c.epochs,
        batch_size=c.batch_size,
        lr=c.lr,
        seed=seed,
        label_smoothing=0.1,
        bf16=c.bf16,
        eval_images=x_eval,
        eval_labels=y_eval,
        device=device,
        desc="resnet18",
    )
    log_history(run, history, "torch_resnet18")
    predictions = predict_logits(model, to_normalised_tensor(x_eval), 0, c.bf16).argmax(1).numpy()
    run.log_metrics(
        {
            "test_accuracy": history[-1]["eval_accuracy"],
            "train_minutes": history[-1]["seconds"] / 60,
            "images_per_second": float(np.mean([r["images_per_second"] for r in history])),
            "inference_images_per_second": inference_images_per_second(model.cpu(), x_eval[:1000], c.bf16),
            "parameters": count_parameters(model),
            "train_images": c.train_size,
            "epochs": c.epochs,
        },
        variant="torch_resnet18",
    )
    save_model(model, run.model_path("resnet18.pt"))
    run.write_plot_data("curves_resnet18", curve_rows(history))
    return model, history, (y_eval, predictions)


def run_small_resnets(run: StageRun, cfg: Day05Config, data: dict, seed: int) -> dict[str, np.ndarray]:
    """The same small ResNet from scratch and in torch, Adam on the same batches of the lossless subset
    (float32, no augmentation), scored on the 1,000 lossless test images."""
    c = cfg.scratch_resnet
    x = to_normalised_tensor(data["lossless_train_x"][: c.train_size]).contiguous().numpy()
    y = data["lossless_train_y"][: c.train_size].astype(np.int64)
    x_test = to_normalised_tensor(data["lossless_test_x"]).contiguous().numpy()
    y_test = data["lossless_test_y"].astype(np.int64)
    scratch = small_resnet(tuple(c.widths), len(CLASSES), seed=seed)
    scratch_history = scratch.fit(
        x, y, epochs=c.epochs, batch_size=c.batch_size, lr=c.lr, validation_data=(x_test, y_test), seed=seed
    )
    torch.manual_seed(seed)
    twin = SmallResNet(tuple(c.widths), len(CLASSES))
    torch_history = torch_training.fit(
        twin, x, y, (x_test, y_test), epochs=c.epochs, batch_size=c.batch_size, lr=c.lr, seed=seed
    )
    filters = {}
    for variant, history in (("scratch_small_resnet", scratch_history), ("torch_small_resnet", torch_history)):
        run.log_series("val_accuracy", history["val_accuracy"], variant=variant, steps=range(1, c.epochs + 1))
        run.log_series("loss", history["loss"], variant=variant, steps=range(1, c.epochs + 1))
        run.log_metrics(
            {
                "test_accuracy": history["val_accuracy"][-1],
                "images_per_second": float(np.mean(history["images_per_second"])),
                "train_minutes": float(np.sum(history["seconds"]) / 60),
            },
            variant=variant,
        )
    run.log_metrics(
        {
            "speed_ratio_to_torch": run.metrics["scratch_small_resnet"]["images_per_second"]
            / run.metrics["torch_small_resnet"]["images_per_second"]
        },
        variant="scratch_small_resnet",
    )
    scratch.save(run.model_path("scratch_small_resnet.npz"))
    save_model(twin, run.model_path("torch_small_resnet.pt"))
    filters["scratch small ResNet stem (lossless subset)"] = scratch.layers[0].weight.data
    return filters


def record_figures(run, cfg, data, seed, fast, resnet, filters):
    fast_model, fast_history, predictions, confidence = fast
    resnet_model, resnet_history, resnet_predictions = resnet
    subset = evaluation_indices(cfg.test_size, seed)
    y_test = data["test_y"][subset]
    budget = cfg.fast.time_budget_minutes * 60
    curves = {"fast net": fast_history, "ResNet18 (short budget)": resnet_history}
    run.log_figure(figures.accuracy_vs_time(curves, cfg.fast.target_accuracy, budget), "accuracy_vs_time")
    per_class = {"fast net (TTA)": (y_test, predictions), "ResNet18": resnet_predictions}
    run.log_figure(figures.per_class_accuracy(per_class, CLASSES), "per_class_accuracy")
    rows = [
        {"class": name, **{model: float(np.mean(p[t == c] == c)) for model, (t, p) in per_class.items()}}
        for c, name in enumerate(CLASSES)
    ]
    run.write_plot_data("per_class_accuracy", [{k.replace(" ", "_"): v for k, v in r.items()} for r in rows])
    title = f"Fast net on the CIFAR-10 test set (JPEG), accuracy {np.mean(predictions == y_test):.3f}"
    run.log_figure(figures.confusion_matrix(y_test, predictions, CLASSES, title), "confusion_matrix")
    grid = figures.misclassified_grid(
        data["test_x"][subset], y_test, predictions, confidence, CLASSES, cfg.figures.misclassified
    )
    run.log_figure(grid, "misclassified")
    filters = {
        "fast net whitening layer (fixed, PCA of 2x2 patches)": fast_model.whiten.weight.detach().cpu().numpy(),
        "ResNet18 stem (after its short budget)": resnet_model.stem[0].weight.detach().float().cpu().numpy(),
        **filters,
    }
    run.log_figure(figures.first_layer_filters(filters), "first_layer_filters")


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    settings = validate_or_exit(cfg, SECTION, SCHEMA)
    with StageRun(STAGE, cfg, SECTION, settings) as run:
        data = load_processed()
        device = cfg.profile.device
        fast = run_fast_net(run, settings, data, cfg.seed, device)
        resnet = run_resnet18(run, settings, data, cfg.seed, device)
        filters = run_small_resnets(run, settings, data, cfg.seed)
        record_figures(run, settings, data, cfg.seed, fast, resnet, filters)


if __name__ == "__main__":
    main()
