"""MNIST from the embedded idx files: 60,000 training and 10,000 test digits, 28x28 grey levels.

    from src.data.mnist import load_mnist
    (X_train, y_train), (X_test, y_test) = load_mnist()     # uint8 (n, 28, 28) and uint8 (n,)

Every file is checked against data/raw/MANIFEST.sha256 before it is read. The training images come as three
idx files of 20,000 images each (data/raw/SOURCES.md says why); they are joined in order here.

The idx format (LeCun's): a big-endian header -- two zero bytes, a type code (0x08 = unsigned byte), the number
of dimensions -- then one 4-byte size per dimension, then the values row-major.
"""

import gzip
from pathlib import Path

import numpy as np

from src.data.checksums import verified_path

TRAIN_IMAGE_PARTS = tuple(f"mnist/train-images-idx3-ubyte.part{i}.gz" for i in range(3))
TRAIN_LABELS = "mnist/train-labels-idx1-ubyte.gz"
TEST_IMAGES = "mnist/t10k-images-idx3-ubyte.gz"
TEST_LABELS = "mnist/t10k-labels-idx1-ubyte.gz"
N_CLASSES = 10
N_TRAIN_IMAGES = 60_000
N_TEST_IMAGES = 10_000
UNSIGNED_BYTE = 0x08


class MNISTFormatError(ValueError):
    """An idx file whose header or length does not describe what it holds."""


def read_idx(path: Path) -> np.ndarray:
    """One gzipped idx file as a uint8 array of the shape its header declares."""
    raw = gzip.decompress(path.read_bytes())
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != UNSIGNED_BYTE:
        raise MNISTFormatError(f"{path}: not an unsigned-byte idx file (header {raw[:4].hex()}); re-embed it.")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    payload = raw[4 + 4 * ndim :]
    if len(payload) != int(np.prod(shape)):
        raise MNISTFormatError(f"{path}: header says shape {shape} but the file holds {len(payload)} values.")
    return np.frombuffer(payload, dtype=np.uint8).reshape(shape)


def load_split(image_files: tuple[str, ...], label_file: str) -> tuple[np.ndarray, np.ndarray]:
    images = np.concatenate([read_idx(verified_path(f)) for f in image_files])
    labels = read_idx(verified_path(label_file))
    if images.shape[0] != labels.shape[0] or images.shape[1:] != (28, 28):
        raise MNISTFormatError(f"{image_files} hold {images.shape} images but {label_file} {labels.shape[0]} labels.")
    if labels.max() >= N_CLASSES:
        raise MNISTFormatError(f"{label_file} has label {labels.max()}; digits are 0-9.")
    return images, labels


def load_mnist():
    """((X_train, y_train), (X_test, y_test)), images uint8 (n, 28, 28), labels uint8 (n,)."""
    return load_split(TRAIN_IMAGE_PARTS, TRAIN_LABELS), load_split((TEST_IMAGES,), TEST_LABELS)


def as_float(images: np.ndarray, dtype=np.float32) -> np.ndarray:
    """Grey levels 0..255 -> 0..1 floats, the scale every model here trains on."""
    return images.astype(dtype) / 255.0


def train_validation_test(
    train_size: int, validation_size: int, test_size: int, seed: int
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"train", "validation", "test"}: (float32 images in 0..1 (n, 28, 28), int64 labels (n,)).

    train and validation come from one seeded shuffle of the 60,000 training images: its first train_size
    images, of which the first validation_size are held out (the curves) and the rest train. test is MNIST's own
    test set, its first test_size images (all 10,000 except in the smoke profile), used only for the final score."""
    if not 0 < validation_size < train_size <= N_TRAIN_IMAGES:
        raise ValueError(
            f"need 0 < validation_size < train_size <= {N_TRAIN_IMAGES}, got {validation_size} and {train_size}"
        )
    if not 0 < test_size <= N_TEST_IMAGES:
        raise ValueError(f"test_size must lie in 1..{N_TEST_IMAGES}, got {test_size}")
    (X, y), (X_test, y_test) = load_mnist()
    order = np.random.default_rng(seed).permutation(len(X))[:train_size]
    train, validation = order[validation_size:], order[:validation_size]
    X, X_test = as_float(X), as_float(X_test)
    y, y_test = y.astype(np.int64), y_test.astype(np.int64)
    test = slice(0, test_size)
    return {
        "train": (X[train], y[train]),
        "validation": (X[validation], y[validation]),
        "test": (X_test[test], y_test[test]),
    }
