"""Character-level tokenisation of Tiny Shakespeare, as nanoGPT's shakespeare_char does it.

The vocabulary is the sorted set of characters in the whole text (65 of them); ids index into it. The split is
nanoGPT's: the first 90 % of the characters train, the last 10 % validate (a contiguous tail, so validation text
is unseen, not interleaved with training text).
"""

import numpy as np

from src.data.checksums import verified_path

SHAKESPEARE = "tinyshakespeare/input.txt"


def load_text(relative: str = SHAKESPEARE) -> str:
    """The embedded corpus, after its checksum is verified (src/data/checksums.py)."""
    return verified_path(relative).read_text(encoding="utf-8")


class CharTokenizer:
    """Characters <-> integer ids over a fixed vocabulary."""

    def __init__(self, vocabulary: str):
        self.chars = sorted(set(vocabulary))
        self.index = {c: i for i, c in enumerate(self.chars)}

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        unknown = sorted(set(text) - self.index.keys())
        if unknown:
            raise ValueError(
                f"characters {unknown!r} are not in the model's vocabulary of {self.vocab_size} characters "
                f"(it knows {''.join(self.chars)!r}): remove or replace them"
            )
        return np.fromiter((self.index[c] for c in text), dtype=np.int64, count=len(text))

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)


def train_val_split(ids: np.ndarray, train_fraction: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """nanoGPT's split: the first 90 % train, the last 10 % validate."""
    cut = int(len(ids) * train_fraction)
    return ids[:cut], ids[cut:]
