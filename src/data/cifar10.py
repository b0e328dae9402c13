"""CIFAR-10 from the embedded shards: 50,000 training and 10,000 test images, 32x32 RGB, ten classes.

    from src.data.cifar10 import prepare, load_processed
    prepare("data/processed/cifar10")              # verify every shard, decode the JPEGs once, save arrays
    data = load_processed("data/processed/cifar10")  # {"train_x": uint8 (50000, 32, 32, 3), "train_y": ...}

Two embedded sources (data/raw/SOURCES.md, section 2, says where each comes from):
- jpeg_q75/: all 60,000 images, but as JPEG quality 75 with 4:2:0 chroma subsampling (lossy: the original
  lossless full set was not available). Each shard is an .npz of the JPEG files concatenated (`jpeg`), the
  byte offsets of each file (`offsets`, n+1 values), `labels` and `orig_index`.
- lossless_subset/: the exact pixels of training images 0-3,999 and test images 0-999.
The first 1,000 JPEG test images are the same images as the lossless test subset (orig_index 0..999), which is
what lets the stage measure what the JPEG compression costs a model.

Every shard is checked against data/raw/MANIFEST.sha256 before it is opened (src/data/checksums.py): a corrupt
shard fails with its path and the expected and actual sha256. Decoding 60,000 JPEGs takes about half a minute,
so it is done once by `prepare` into data/processed/cifar10 (a DVC output, cached, not in git).
"""

import io
from pathlib import Path

import numpy as np

from src import atomic_io
from src.data.checksums import verified_path
from src.paths import DATA_RAW, MANIFEST, ROOT

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
TRAIN_SHARDS = tuple(f"cifar10/jpeg_q75/train_shard{i:02d}.npz" for i in range(15))
TEST_SHARDS = tuple(f"cifar10/jpeg_q75/test_shard{i:02d}.npz" for i in range(3))
LOSSLESS_TRAIN = tuple(f"cifar10/lossless_subset/train_first4000_part{i}.npz" for i in range(4))
LOSSLESS_TEST = "cifar10/lossless_subset/test_first1000.npz"
PROCESSED_FILE = "cifar10.npz"
PROCESSED_DIR = ROOT / "data" / "processed" / "cifar10"
SIZES = {"train": 50_000, "test": 10_000, "lossless_train": 4_000, "lossless_test": 1_000}


class CIFAR10FormatError(ValueError):
    """A shard whose arrays do not describe 32x32 RGB images with labels 0-9."""


def evaluation_indices(size: int, seed: int) -> np.ndarray:
    """Indices of `size` test images to score. Only the first 1,000 JPEG test images are in the original
    (shuffled) order; the other 9,000 come class by class (test[1000:2000] is 897 airplanes), so the first n
    images of a smaller subset would be badly unbalanced. All 10,000: 0..9999; fewer: a seeded random sample."""
    if size >= SIZES["test"]:
        return np.arange(SIZES["test"])
    return np.sort(np.random.default_rng(seed).choice(SIZES["test"], size, replace=False))


def decode_jpeg_shard(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(images uint8 (n, 32, 32, 3), labels uint8 (n,), orig_index int32 (n,)) from one JPEG shard."""
    from PIL import Image

    with np.load(path, allow_pickle=False) as shard:
        blob, offsets = shard["jpeg"], shard["offsets"]
        labels, orig_index = shard["labels"].astype(np.uint8), shard["orig_index"].astype(np.int32)
    if len(offsets) != len(labels) + 1 or offsets[-1] != len(blob):
        raise CIFAR10FormatError(f"{path}: {len(offsets)} offsets for {len(labels)} images and {len(blob)} bytes.")
    images = np.empty((len(labels), 32, 32, 3), dtype=np.uint8)
    for i in range(len(labels)):
        with Image.open(io.BytesIO(blob[offsets[i] : offsets[i + 1]].tobytes())) as image:
            images[i] = np.asarray(image.convert("RGB"))
    return images, labels, orig_index


def read_lossless(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with np.load(path, allow_pickle=False) as shard:
        return shard["x"].astype(np.uint8), shard["y"].astype(np.uint8), shard["orig_index"].astype(np.int32)


def _join(parts: list[tuple[np.ndarray, ...]], name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    images, labels, index = (np.concatenate(column) for column in zip(*parts, strict=True))
    if images.shape != (SIZES[name], 32, 32, 3) or labels.max() >= len(CLASSES):
        raise CIFAR10FormatError(f"{name}: got images {images.shape} with labels up to {labels.max()}.")
    return images, labels, index


def decode_all(shards=None, manifest: Path = MANIFEST, root: Path = DATA_RAW) -> dict[str, np.ndarray]:
    """Verify and decode every embedded shard. `shards` ({part: files}) overrides the file lists, and
    manifest/root the checksum manifest and data folder (tests use a few files and a corrupted copy)."""
    shards = shards or {
        "train": TRAIN_SHARDS,
        "test": TEST_SHARDS,
        "lossless_train": LOSSLESS_TRAIN,
        "lossless_test": (LOSSLESS_TEST,),
    }
    arrays = {}
    for name, files in shards.items():
        read = read_lossless if name.startswith("lossless") else decode_jpeg_shard
        images, labels, index = _join([read(verified_path(f, manifest, root)) for f in files], name)
        arrays[f"{name}_x"], arrays[f"{name}_y"], arrays[f"{name}_index"] = images, labels, index
    return arrays


def alignment_mse(arrays: dict[str, np.ndarray]) -> float:
    """Mean squared pixel difference between the lossless test images and their JPEG versions (the first
    1,000 JPEG test images). SOURCES.md measured 65.4 for aligned images and ~8,000 for images one off."""
    n = len(arrays["lossless_test_x"])
    if not np.array_equal(arrays["test_index"][:n], arrays["lossless_test_index"]):
        raise CIFAR10FormatError("the first JPEG test images are not the lossless subset's (orig_index differs)")
    diff = arrays["test_x"][:n].astype(np.float64) - arrays["lossless_test_x"]
    return float(np.mean(diff**2))


def prepare(out_dir: Path | str = PROCESSED_DIR, max_alignment_mse: float = 200.0) -> Path:
    """Decode everything once into out_dir/cifar10.npz (uncompressed: loading is a memory copy), after
    checking that the JPEG and lossless test images are the same pictures (alignment_mse)."""
    target = Path(out_dir) / PROCESSED_FILE
    arrays = decode_all()
    mse = alignment_mse(arrays)
    if mse > max_alignment_mse:
        raise CIFAR10FormatError(
            f"JPEG and lossless test images differ by MSE {mse:.1f} > {max_alignment_mse}: they are not the same "
            "images in the same order; check the shards against data/raw/SOURCES.md"
        )

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:  # a file object: np.savez would add ".npz" to a bare name
            np.savez(handle, **arrays)

    atomic_io.atomic_write(target, write)
    return target


def load_processed(out_dir: Path | str | None = None) -> dict[str, np.ndarray]:
    """The arrays `prepare` wrote (default: PROCESSED_DIR, read at call time); a clear error if the prepare
    stage has not run."""
    path = Path(out_dir or PROCESSED_DIR) / PROCESSED_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `dvc repro day05_prepare` (it decodes the JPEG shards).")
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}
