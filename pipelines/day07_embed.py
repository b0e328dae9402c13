"""Day 7, step 1: encode the SciFact corpus and every query with all-MiniLM-L6-v2, once (a cached DVC output).

    dvc repro day07_embed                                   # models/day07_embed/scifact_minilm.npz
    python -m pipelines.day07_embed profile=smoke           # straight from conf/

The day07_rag stage reads the vectors from here, so changing a retrieval setting never re-encodes the corpus.
"""

import time
from dataclasses import dataclass

import hydra
import torch
from omegaconf import DictConfig

from src.config import setting, torch_device, validate_or_exit
from src.data.scifact import load_scifact
from src.llm.embeddings import MiniLMEncoder, save_embeddings
from src.tracking import StageRun

STAGE = "day07_embed"
SECTION = "day07_embed"
OUTPUT = "scifact_minilm.npz"


@dataclass
class Day07EmbedConfig:
    max_length: int = setting(at_least=8, at_most=512)
    batch_size: int = setting(at_least=1)
    doc_limit: int | None = setting(at_least=1, optional=True)
    torch_threads: int | None = setting(at_least=1, optional=True)


SCHEMA = Day07EmbedConfig


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    settings = validate_or_exit(cfg, SECTION, SCHEMA)
    with StageRun(STAGE, cfg, SECTION, settings) as run:
        data = load_scifact()
        limit = settings.doc_limit or len(data.doc_ids)
        doc_ids, doc_texts = data.doc_ids[:limit], data.doc_texts[:limit]
        query_ids = list(data.queries)
        if settings.torch_threads:
            torch.set_num_threads(settings.torch_threads)
        encoder = MiniLMEncoder(settings.max_length, settings.batch_size, torch_device(cfg.profile.device))
        start = time.perf_counter()
        docs = encoder.encode(doc_texts, progress=True)
        doc_seconds = time.perf_counter() - start
        queries = encoder.encode([data.queries[q] for q in query_ids], progress=True)
        save_embeddings(
            run.model_path(OUTPUT), {"docs": doc_ids, "queries": query_ids}, {"docs": docs, "queries": queries}
        )
        run.log_metrics(
            {"docs": len(doc_ids), "queries": len(query_ids), "docs_per_second": len(doc_ids) / doc_seconds},
            variant="minilm_encoder",
        )


if __name__ == "__main__":
    main()
