"""Day 5 ablations: plain vs residual nets at two depths (the degradation problem), batch norm on/off,
augmentation on/off, each trained on the same CIFAR-10 images for the same short budget.

    dvc repro day05_ablations                              # <= 10 min on the cpu profile; `make repro` may skip it
    python -m pipelines.day05_ablations profile=smoke      # seconds

Records: one nested MLflow run per variant (plain_20, residual_20, plain_56, residual_56, residual_20_no_bn,
residual_20_no_augmentation) with per-epoch curves; metrics `<variant>.final_train_loss`, `.test_accuracy`,
`.grad_norm_first_over_last` (at initialisation), `.diverged`; the figure ablation_curves (one panel per ablation).
"""

from dataclasses import dataclass

import hydra
import numpy as np
from omegaconf import DictConfig

from src.config import setting, validate_or_exit
from src.data.cifar10 import evaluation_indices, load_processed
from src.ml.vision.ablations import run_variant, variants
from src.tracking import StageRun
from src.visualization import vision as figures

STAGE = "day05_ablations"
SECTION = "day05_ablations"


@dataclass
class Day05AblationsConfig:
    train_size: int = setting(at_least=1, at_most=50_000)
    eval_size: int = setting(at_least=1, at_most=10_000)
    depths: list[int] = setting(at_least=8)
    epochs: int = setting(at_least=1)
    batch_size: int = setting(at_least=1)
    lr: float = setting(above=0)
    bf16: bool

    def __post_init__(self):
        if len(set(self.depths)) != 2 or any((d - 2) % 6 for d in self.depths):
            raise ValueError(
                f"day05_ablations.depths needs two different depths 6n + 2 (e.g. [20, 56]), got {self.depths}"
            )
        if self.batch_size > self.train_size:
            raise ValueError("day05_ablations.batch_size exceeds day05_ablations.train_size")


SCHEMA = Day05AblationsConfig


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    settings = validate_or_exit(cfg, SECTION, SCHEMA)
    with StageRun(STAGE, cfg, SECTION, settings) as run:
        raw = load_processed()
        subset = evaluation_indices(settings.eval_size, cfg.seed)
        data = {
            "train_x": raw["train_x"][: settings.train_size],
            "train_y": raw["train_y"][: settings.train_size],
            "eval_x": raw["test_x"][subset],
            "eval_y": raw["test_y"][subset],
        }
        results, groups = {}, {}
        for ablation, specs in variants(settings.depths).items():
            groups[ablation] = {}
            for name, spec in specs.items():
                if name not in results:  # the baseline is shared by several ablations: trained once
                    results[name] = run_variant(
                        spec,
                        data,
                        epochs=settings.epochs,
                        batch_size=settings.batch_size,
                        lr=settings.lr,
                        seed=cfg.seed,
                        bf16=settings.bf16,
                    )
                    history, ratio, diverged = results[name]
                    record(run, name, history, ratio, diverged)
                groups[ablation][name] = results[name][0]
        run.log_figure(figures.ablation_curves(groups, "train_loss"), "ablation_curves")


def record(run: StageRun, name: str, history: list[dict], ratio: float, diverged: bool):
    if history:
        steps = [r["epoch"] for r in history]
        for key in ("train_loss", "train_accuracy", "eval_accuracy", "images_per_second"):
            run.log_series(key, [r[key] for r in history], variant=name, steps=steps)
        run.write_plot_data(
            f"curves_{name}",
            [
                {"epoch": r["epoch"], "train_loss": r["train_loss"], "test_accuracy": r["eval_accuracy"]}
                for r in history
            ],
        )
    metrics = {"grad_norm_first_over_last": ratio, "diverged": float(diverged), "epochs_completed": len(history)}
    if history:  # a variant that diverged in its first epoch has no curve (and no NaN goes to metrics.json)
        metrics |= {
            "final_train_loss": history[-1]["train_loss"],
            "final_train_accuracy": history[-1]["train_accuracy"],
            "test_accuracy": history[-1]["eval_accuracy"],
            "images_per_second": float(np.mean([r["images_per_second"] for r in history])),
        }
    run.log_metrics(metrics, variant=name)


if __name__ == "__main__":
    main()
