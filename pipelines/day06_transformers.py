"""Day 6 stage: attention, GPT-2 and BERT (src/llm/) trained on Tiny Shakespeare, character level.

    dvc repro day06_transformers                                 # what `make repro` runs, on params.yaml
    python -m pipelines.day06_transformers profile=smoke         # straight from conf/, in seconds
    python -m pipelines.day06_transformers -m day06.gpt_budget.peak_lr=0.002,0.004   # a Hydra sweep

Records (see src/tracking.py), one nested MLflow run each:
- nanogpt_recipe: our GPT2 with nanoGPT's CPU "baby GPT" settings (4x4x128, block 64, batch 12, 2,000 iterations)
- gpt_budget: our choices, trained for the anchor's wall time (82 s on the cpu profile)
- gpt_long: the cpu profile's 10-minute model, with text samples at checkpoints as artifacts
- bert_mlm: a small BERT with masked-language modelling, against most-frequent and unigram baselines
- positional_<none|sinusoidal|learned|rope>: the ablation at a small fixed budget, evaluated at 1x and 2x block
- attention_<naive|sdpa>: time and peak memory vs sequence length; kv_cache: generation speed with/without it
"""

import copy
import os
from dataclasses import asdict, dataclass, replace
from typing import NamedTuple

# Before torch loads its OpenMP runtime: waiting threads sleep instead of spinning. On a busy 2-core machine a
# spinning thread holds a core the other needs and a training step took 10-40x longer (measured here).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import hydra  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from src.atomic_io import atomic_write  # noqa: E402
from src.config import setting, torch_device, validate_or_exit  # noqa: E402
from src.llm import complexity, training  # noqa: E402
from src.llm.tokenizer import CharTokenizer, load_text, train_val_split  # noqa: E402
from src.llm.transformer import BERT, GPT2, POSITIONAL  # noqa: E402
from src.tracking import StageRun  # noqa: E402
from src.visualization import transformers as figures  # noqa: E402

STAGE = "day06_transformers"
SECTION = "day06"


# -- the stage's config schema: conf/day06/default.yaml must fit it ---------------------------------------
@dataclass
class ShapeConfig:
    """What GPT and BERT runs share: the model's shape and the batches it trains on."""

    n_layer: int = setting(at_least=1)
    n_head: int = setting(at_least=1)
    n_embd: int = setting(at_least=2)
    block_size: int = setting(at_least=2)
    batch_size: int = setting(at_least=1)
    dropout: float = setting(at_least=0, below=1)
    peak_lr: float = setting(above=0)
    bf16: bool
    max_seconds: float = setting(above=0)


@dataclass
class GPTRunConfig(ShapeConfig):
    positional: str = setting(one_of=POSITIONAL)
    warmup_fraction: float = setting(at_least=0, below=1)
    min_lr_ratio: float = setting(at_least=0, at_most=1)
    weight_decay: float = setting(at_least=0)
    beta2: float = setting(above=0, below=1)
    max_iters: int | None = setting(at_least=1, optional=True)
    checkpoints: int = setting(at_least=0)


@dataclass
class BERTConfig(ShapeConfig):
    mask_prob: float = setting(above=0, below=1)
    eval_windows: int = setting(at_least=1)


@dataclass
class AblationConfig:
    encodings: list[str] = setting(one_of=POSITIONAL)
    model: GPTRunConfig


@dataclass
class ScalingConfig:
    lengths: list[int] = setting(at_least=2)
    heads: int = setting(at_least=1)
    head_dim: int = setting(at_least=1)
    max_seconds: float = setting(above=0)


@dataclass
class GenerationConfig:
    prompt: str = setting(text=True)
    sample_chars: int = setting(at_least=1)
    temperature: float = setting(above=0)
    top_k: int = setting(at_least=1)
    kv_cache_new_tokens: int = setting(at_least=1)
    heatmap_chars: int = setting(at_least=2)


@dataclass
class Day06Config:
    anchor_val_loss: float = setting(above=0)
    budget_from_recipe: bool
    target_val_loss: float = setting(above=0)
    eval_batches: int = setting(at_least=1)
    eval_batch_size: int = setting(at_least=1)
    nanogpt_recipe: GPTRunConfig
    gpt_budget: GPTRunConfig
    gpt_long: GPTRunConfig
    bert: BERTConfig
    ablation: AblationConfig
    scaling: ScalingConfig
    generation: GenerationConfig

    def __post_init__(self):
        models = {"nanogpt_recipe": self.nanogpt_recipe, "gpt_budget": self.gpt_budget, "gpt_long": self.gpt_long}
        models |= {"bert": self.bert, "ablation.model": self.ablation.model}
        for name, model in models.items():
            if model.n_head >= 1 and model.n_embd % model.n_head:  # n_head < 1: its own range check names it
                raise ValueError(
                    f"{SECTION}.{name}.n_embd ({model.n_embd}) must be divisible by {SECTION}.{name}.n_head "
                    f"({model.n_head}): each head gets n_embd / n_head features"
                )


SCHEMA = Day06Config


class Corpus(NamedTuple):
    train: np.ndarray
    val: np.ndarray
    vocab_size: int


# -- GPT runs ---------------------------------------------------------------------------------------------------
def build_gpt(cfg: GPTRunConfig, vocab_size: int, seed: int, device: str) -> GPT2:
    torch.manual_seed(seed)
    model = GPT2(vocab_size, cfg.block_size, cfg.n_layer, cfg.n_head, cfg.n_embd, cfg.dropout, cfg.positional)
    return model.to(device)


def train_gpt(run, variant, cfg: GPTRunConfig, data, settings: Day06Config, seed, device, tokenizer=None):
    """Train one GPT2 on its budget; record curves and final metrics; samples at checkpoints when a tokenizer is
    given. Returns (model, curve)."""
    train_ids, val_ids = data.train, data.val
    model = build_gpt(cfg, data.vocab_size, seed, device)
    rng = np.random.default_rng(seed)

    def evaluate():
        return training.evaluate_lm(
            model, val_ids, cfg.block_size, settings.eval_batch_size, settings.eval_batches, seed=seed + 1
        )

    def sample(step, val_loss):
        if tokenizer is None:
            return
        text = complete(model, tokenizer, settings.generation, seed)
        path = run.write_text(
            f"samples/{variant}_step{step:06d}.txt", f"step {step}, val loss {val_loss:.4f}\n\n{text}"
        )
        run.log_artifact(path, "samples", variant=variant)

    history = training.train_by_budget(
        model,
        lambda: training.random_windows(train_ids, cfg.batch_size, cfg.block_size, rng),
        training.next_token_loss,
        peak_lr=cfg.peak_lr,
        max_seconds=cfg.max_seconds,
        max_iters=cfg.max_iters,
        warmup_fraction=cfg.warmup_fraction,
        min_lr_ratio=cfg.min_lr_ratio,
        weight_decay=cfg.weight_decay,
        beta2=cfg.beta2,
        bf16=cfg.bf16,
        evaluate=evaluate,
        n_checkpoints=cfg.checkpoints,
        on_checkpoint=sample,
        desc=variant,
    )
    run.log_series("train_loss", history.train_loss, variant=variant, steps=history.steps)
    # the checkpoints' validation losses, then the final one at the last step: one curve in MLflow
    run.log_series("val_loss", history.val_loss[:-1], variant=variant, steps=history.eval_steps[:-1])
    final = {
        "val_loss": history.val_loss[-1],
        "train_seconds": history.train_seconds,
        "iterations": history.iterations,
        "tokens_per_second": history.tokens / history.train_seconds,
        "parameters": model.num_parameters(),
    }
    run.log_metrics(final, variant=variant, step=history.iterations)
    run.write_plot_data(
        f"curve_{variant}",
        [
            {"step": s, "seconds": round(t, 3), "val_loss": round(v, 5)}
            for s, t, v in zip(history.eval_steps, history.eval_seconds, history.val_loss, strict=True)
        ],
    )
    return model, {"seconds": history.eval_seconds, "val_loss": history.val_loss}


def complete(model, tokenizer, gen: GenerationConfig, seed: int) -> str:
    """A sample continuing gen.prompt, generated on the CPU (a copy of the model, if it trains elsewhere)."""
    model = model if next(model.parameters()).device.type == "cpu" else copy.deepcopy(model).cpu()
    prompt = torch.from_numpy(tokenizer.encode(gen.prompt))[None]
    generator = torch.Generator().manual_seed(seed)
    out = model.generate(prompt, gen.sample_chars, gen.temperature, gen.top_k, generator=generator)
    return tokenizer.decode(out[0].tolist())


def save_model(run, model, name: str, config: dict):
    path = run.model_path(f"{name}.pt")
    atomic_write(path, lambda tmp: torch.save({"config": config, "state_dict": model.state_dict()}, tmp))
    run.log_artifact(path, "model", variant=name)


# -- BERT ---------------------------------------------------------------------------------------------------------
def train_bert(run, cfg: BERTConfig, data, seed: int, device: str):
    train_ids, val_ids, vocab = data
    mask_id = vocab  # one extra id for [MASK]
    torch.manual_seed(seed)
    model = BERT(vocab + 1, cfg.block_size, cfg.n_embd, cfg.n_head, cfg.n_layer, dropout=cfg.dropout).to(device)
    rng = np.random.default_rng(seed)
    mask_rng = torch.Generator().manual_seed(seed)

    def batches():
        windows, _ = training.random_windows(train_ids, cfg.batch_size, cfg.block_size, rng)
        return training.mask_tokens(windows, mask_id, vocab, mask_rng, cfg.mask_prob)

    val_windows, _ = training.random_windows(val_ids, cfg.eval_windows, cfg.block_size, np.random.default_rng(seed + 1))
    history = training.train_by_budget(
        model,
        batches,
        training.mlm_loss,
        peak_lr=cfg.peak_lr,
        max_seconds=cfg.max_seconds,
        bf16=cfg.bf16,
        evaluate=lambda: training.evaluate_mlm(model, val_windows, mask_id, vocab, seed + 2, cfg.mask_prob)[
            "masked_loss"
        ],
        n_checkpoints=3,
        desc="bert_mlm",
    )
    scores = training.evaluate_mlm(model, val_windows, mask_id, vocab, seed + 2, cfg.mask_prob)
    baselines = training.unigram_baselines(train_ids, scores.pop("labels").numpy(), vocab)  # the same characters
    run.log_series("train_loss", history.train_loss, variant="bert_mlm", steps=history.steps)
    run.log_series("val_masked_loss", history.val_loss, variant="bert_mlm", steps=history.eval_steps)
    run.log_metrics(
        {**scores, **baselines, "train_seconds": history.train_seconds, "iterations": history.iterations},
        variant="bert_mlm",
    )
    save_model(run, model, "bert_mlm", asdict(cfg))
    run.log_figure(
        figures.mlm_accuracy(
            {
                "BERT (masked tokens)": scores["masked_accuracy"],
                "most frequent character": baselines["most_frequent_accuracy"],
                "unigram sampling": baselines["unigram_sampling_accuracy"],
            }
        ),
        "bert_mlm_accuracy",
    )


# -- positional-encoding ablation -------------------------------------------------------------------------------
def positional_ablation(run, cfg: AblationConfig, data, settings: Day06Config, seed: int, device: str):
    rows = []
    val_ids = data.val
    for encoding in cfg.encodings:
        variant = f"positional_{encoding}"
        run_cfg = GPTRunConfig(**{**asdict(cfg.model), "positional": encoding})
        model, _ = train_gpt(run, variant, run_cfg, data, settings, seed, device)
        val = run.metrics[variant]["val_loss"]  # on the same fixed validation windows as every model
        val_2x = None
        if encoding != "learned":  # a learned table has no rows past block_size: it cannot run there
            val_2x = training.evaluate_lm(
                model, val_ids, 2 * run_cfg.block_size, settings.eval_batch_size, settings.eval_batches, seed + 1
            )
            run.log_metrics({"val_loss_2x_block": val_2x}, variant=variant)
        rows.append({"positional": encoding, "val_loss": round(val, 5), "val_loss_2x": val_2x and round(val_2x, 5)})
    run.write_plot_data("positional_ablation", [{**r, "val_loss_2x": r["val_loss_2x"] or ""} for r in rows])
    run.log_figure(figures.positional_ablation(rows), "positional_ablation")


# -- the O(n^2) measurements --------------------------------------------------------------------------------------
def attention_cost(run, cfg: ScalingConfig):
    rows = complexity.attention_scaling(cfg.lengths, cfg.heads, cfg.head_dim, max_seconds=cfg.max_seconds)
    slopes = {}
    for name in ("naive", "sdpa"):
        mine = [r for r in rows if r["implementation"] == name]
        upper = [r for r in mine if r["seq_len"] >= np.median([r["seq_len"] for r in mine])]  # where n^2 dominates
        slopes[name] = {
            key: complexity.loglog_slope([r["seq_len"] for r in upper], [r[key] for r in upper])
            for key in ("seconds", "peak_mib")
        }
        variant = f"attention_{name}"
        run.log_series("seconds", [r["seconds"] for r in mine], variant=variant, steps=[r["seq_len"] for r in mine])
        run.log_series("peak_mib", [r["peak_mib"] for r in mine], variant=variant, steps=[r["seq_len"] for r in mine])
        run.log_metrics(
            {
                "time_slope": slopes[name]["seconds"],
                "memory_slope": slopes[name]["peak_mib"],
                "max_seq_len": max(r["seq_len"] for r in mine),
            },
            variant=variant,
        )
    wide = {n: {"seq_len": n} for n in cfg.lengths}  # a row per length, a column per implementation and measure
    for r in rows:
        wide[r["seq_len"]].update({f"{r['implementation']}_{k}": round(r[k], 6) for k in ("seconds", "peak_mib")})
    columns = [f"{name}_{k}" for name in ("naive", "sdpa") for k in ("seconds", "peak_mib")]
    run.write_plot_data(
        "attention_scaling", [{c: row.get(c, "") for c in ["seq_len", *columns]} for row in wide.values()]
    )
    run.log_figure(figures.attention_scaling(rows, slopes), "attention_scaling")


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    settings = validate_or_exit(cfg, SECTION, SCHEMA)
    seed = int(cfg.seed)
    device = torch_device(cfg.profile.device)
    with StageRun(STAGE, cfg, SECTION, settings) as run:
        text = load_text()
        tokenizer = CharTokenizer(text)
        data = Corpus(*train_val_split(tokenizer.encode(text)), tokenizer.vocab_size)
        sizes = {"vocab_size": tokenizer.vocab_size, "train_chars": len(data.train), "val_chars": len(data.val)}
        run.log_metrics(sizes)

        attention_cost(run, settings.scaling)
        curves = {}
        _, curves["nanogpt_recipe"] = train_gpt(
            run, "nanogpt_recipe", settings.nanogpt_recipe, data, settings, seed, device
        )
        budget = settings.gpt_budget
        if settings.budget_from_recipe:  # the same wall time as the recipe took here, today (82 s on a quiet machine)
            budget = replace(budget, max_seconds=run.metrics["nanogpt_recipe"]["train_seconds"])
        budget_model, curves["gpt_budget"] = train_gpt(run, "gpt_budget", budget, data, settings, seed, device)
        long_model, curves["gpt_long"] = train_gpt(
            run, "gpt_long", settings.gpt_long, data, settings, seed, device, tokenizer
        )
        save_model(run, long_model, "gpt_long", {**asdict(settings.gpt_long), "chars": tokenizer.chars})
        save_model(run, budget_model, "gpt_budget", {**asdict(budget), "chars": tokenizer.chars})
        recipe = run.metrics["nanogpt_recipe"]
        run.log_metrics(
            {
                "gpt_budget_val_loss_minus_anchor": run.metrics["gpt_budget"]["val_loss"] - settings.anchor_val_loss,
                "gpt_budget_val_loss_minus_nanogpt_recipe": run.metrics["gpt_budget"]["val_loss"] - recipe["val_loss"],
                "gpt_long_meets_target": float(run.metrics["gpt_long"]["val_loss"] <= settings.target_val_loss),
            }
        )
        references = {
            "nanoGPT baby GPT, 82 s (anchor)": settings.anchor_val_loss,
            "cpu target": settings.target_val_loss,
        }
        run.log_figure(figures.loss_vs_time(curves, references), "val_loss_vs_time")

        gen = settings.generation
        prompt = torch.from_numpy(tokenizer.encode(gen.prompt))[None]
        new_tokens = min(gen.kv_cache_new_tokens, long_model.block_size - prompt.shape[1])
        long_model = long_model.cpu()  # generation speed and heatmaps on the CPU, whatever trained it
        run.log_metrics(complexity.generation_speed(long_model, prompt, new_tokens), variant="kv_cache")
        sample = text[len(data.train) : len(data.train) + gen.heatmap_chars]  # the start of the validation text
        maps = complexity.attention_maps(long_model, torch.from_numpy(tokenizer.encode(sample))[None])
        run.log_figure(figures.attention_heatmaps(maps, sample), "attention_heatmaps")

        train_bert(run, settings.bert, data, seed, device)
        positional_ablation(run, settings.ablation, data, settings, seed, device)
        print({k: v for k, v in run.metrics.items() if k in ("nanogpt_recipe", "gpt_budget", "gpt_long", "bert_mlm")})


if __name__ == "__main__":
    main()
