"""Day 7, step 2: fine-tune all-MiniLM-L6-v2 as a cross-encoder re-ranker on SciFact's train queries (cached).

    dvc repro day07_rerank_train                            # models/day07_rerank_train/cross_encoder.pt
    python -m pipelines.day07_rerank_train profile=smoke    # a few queries, straight from conf/

Positives are the train qrels; hard negatives are BM25's top documents that are not judged relevant (fresh ones
drawn every epoch). A share of the train queries (dev) is held out of training: day07_rag chooses the re-ranker's
interpolation weight on them, so no test query and no training query decides anything. Training is its own
stage so that changing a retrieval setting in day07_rag never re-trains (it takes ~20 min on 2 CPU cores).
"""

import time
from dataclasses import dataclass

import hydra
import numpy as np
import torch
from omegaconf import DictConfig

from src.config import setting, validate_or_exit
from src.data.scifact import load_scifact, subset
from src.llm import cross_encoder as ce
from src.llm.rag import SparseRetriever
from src.llm.rerank import dev_split, hard_negative_groups
from src.tracking import StageRun
from src.visualization import rag as figures

STAGE = "day07_rerank_train"
SECTION = "day07_rerank_train"
OUTPUT = "cross_encoder.pt"


@dataclass
class DataConfig:
    doc_limit: int | None = setting(at_least=1, optional=True)
    train_queries: int | None = setting(at_least=2, optional=True)
    dev_fraction: float = setting(above=0, below=1)


@dataclass
class NegativesConfig:
    k1: float = setting(at_least=0)
    b: float = setting(at_least=0, at_most=1)
    method: str = setting(one_of=("lucene", "okapi"))
    depth: int = setting(at_least=1)
    per_group: int = setting(at_least=1)


@dataclass
class TrainConfig:
    max_length: int = setting(at_least=16, at_most=512)
    epochs: int = setting(at_least=1)
    batch_groups: int = setting(at_least=1)
    lr: float = setting(above=0)
    head_lr: float = setting(above=0)
    weight_decay: float = setting(at_least=0)
    warmup_fraction: float = setting(at_least=0, at_most=1)
    dropout: float = setting(at_least=0, below=1)
    torch_threads: int | None = setting(at_least=1, optional=True)

    def __post_init__(self):
        if self.warmup_fraction == 1 and self.epochs >= 1:
            raise ValueError("train.warmup_fraction must leave steps for the decay: use < 1")


@dataclass
class Day07RerankTrainConfig:
    data: DataConfig
    negatives: NegativesConfig
    train: TrainConfig


SCHEMA = Day07RerankTrainConfig


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    settings = validate_or_exit(cfg, SECTION, SCHEMA)
    t, neg = settings.train, settings.negatives
    if t.torch_threads:
        torch.set_num_threads(t.torch_threads)
    with StageRun(STAGE, cfg, SECTION, settings) as run:
        data = subset(load_scifact(), settings.data.doc_limit, settings.data.train_queries, 1)
        fit_ids, dev_ids = dev_split(list(data.qrels["train"]), settings.data.dev_fraction, cfg.seed)
        texts = dict(zip(data.doc_ids, data.doc_texts, strict=True))
        bm25 = SparseRetriever(data.doc_ids, data.doc_texts, neg.k1, neg.b, neg.method)
        candidates = bm25.search({q: data.queries[q] for q in data.qrels["train"]}, neg.depth)

        def groups_for(ids, epoch=None):
            rng = None if epoch is None else np.random.default_rng([cfg.seed, epoch])  # None: the top negatives
            return hard_negative_groups(ids, data.queries, texts, data.qrels["train"], candidates, neg.per_group, rng)

        tokenizer, model = ce.load_minilm(cfg.seed, t.dropout)
        start = time.perf_counter()
        losses = ce.train_groups(
            model, tokenizer, groups_for(fit_ids, 0), epochs=t.epochs, batch_groups=t.batch_groups, lr=t.lr,
            head_lr=t.head_lr, weight_decay=t.weight_decay, warmup_fraction=t.warmup_fraction,
            max_length=t.max_length, seed=cfg.seed, regroup=lambda epoch: groups_for(fit_ids, epoch), progress=True,
        )  # fmt: skip
        seconds = time.perf_counter() - start
        ce.save(model, run.model_path(OUTPUT), {"dev_query_ids": dev_ids, "max_length": t.max_length})

        # a quick held-out check: on dev queries, is the positive scored above BM25's top non-relevant documents?
        dev_groups = groups_for(dev_ids)
        size = neg.per_group + 1
        scores = ce.score_pairs(
            model, tokenizer, [q for q, docs in dev_groups for _ in docs], [d for _, docs in dev_groups for d in docs],
            t.max_length, progress=True,
        ).reshape(-1, size)  # fmt: skip
        n_groups = len(groups_for(fit_ids, 0))
        run.log_series("train_loss", losses, variant="cross_encoder")
        window = max(1, len(losses) // 10)
        run.log_metrics(
            {"fit_queries": len(fit_ids), "dev_queries": len(dev_ids), "groups_per_epoch": n_groups,
             "group_size": size, "train_seconds": seconds, "pairs_per_second": t.epochs * n_groups * size / seconds,
             "first_loss": float(np.mean(losses[:window])), "last_loss": float(np.mean(losses[-window:])),
             "chance_loss": float(np.log(size)),
             "dev_group_accuracy": float(np.mean(scores.argmax(1) == 0)), "dev_group_chance": 1 / size},
            variant="cross_encoder",
        )  # fmt: skip
        run.log_figure(figures.training_loss(losses, size), "cross_encoder_training_loss")


if __name__ == "__main__":
    main()
