"""The CIFAR-10 loader: shards decode to what data/raw/SOURCES.md says they hold, a corrupt shard is refused
naming the file and both hashes, and the JPEG test images are the lossless subset's pictures."""

import shutil

import numpy as np
import pytest

from src.data import cifar10
from src.data.checksums import DataIntegrityError, read_manifest, sha256_of
from src.paths import DATA_RAW, MANIFEST


def test_lossless_test_subset_decodes_as_documented():
    arrays = cifar10.decode_all({"lossless_test": (cifar10.LOSSLESS_TEST,)})
    assert arrays["lossless_test_x"].shape == (1000, 32, 32, 3) and arrays["lossless_test_x"].dtype == np.uint8
    assert list(arrays["lossless_test_y"][:10]) == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]  # SOURCES.md
    # class counts of the first 1,000 test images, as SOURCES.md lists them
    assert list(np.bincount(arrays["lossless_test_y"])) == [103, 89, 100, 103, 90, 86, 112, 102, 106, 109]


def test_jpeg_shard_decodes_to_rgb_images():
    images, labels, index = cifar10.decode_jpeg_shard(DATA_RAW / cifar10.TEST_SHARDS[0])
    assert images.shape[1:] == (32, 32, 3) and len(images) == len(labels) == len(index) > 0
    assert list(labels[:10]) == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1] and list(index[:3]) == [0, 1, 2]


def test_corrupt_shard_is_refused_naming_file_and_hashes(tmp_path):
    relative = cifar10.LOSSLESS_TEST
    copy = tmp_path / relative
    copy.parent.mkdir(parents=True)
    shutil.copyfile(DATA_RAW / relative, copy)
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte
    copy.write_bytes(bytes(data))
    expected = read_manifest()[relative][0]
    with pytest.raises(DataIntegrityError) as error:
        cifar10.decode_all({"lossless_test": (relative,)}, manifest=MANIFEST, root=tmp_path)
    message = str(error.value)
    assert str(copy) in message and expected in message and sha256_of(copy) in message


def test_jpeg_and_lossless_test_images_are_the_same_pictures(cifar10_processed_dir):
    arrays = cifar10.load_processed(cifar10_processed_dir)
    assert 50 < cifar10.alignment_mse(arrays) < 80  # SOURCES.md: 65.4 aligned, ~8,000 one image off
    shifted = dict(arrays, test_x=np.roll(arrays["test_x"], 1, axis=0))
    assert cifar10.alignment_mse(shifted) > 1000


def test_missing_processed_arrays_say_which_stage_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="dvc repro day05_prepare"):
        cifar10.load_processed(tmp_path)


def test_evaluation_subsets_are_balanced_samples_not_the_class_ordered_head(cifar10_processed_dir):
    labels = cifar10.load_processed(cifar10_processed_dir)["test_y"]
    subset = cifar10.evaluation_indices(2000, seed=0)
    assert len(set(subset)) == 2000 and np.array_equal(cifar10.evaluation_indices(2000, seed=0), subset)
    assert np.bincount(labels[subset], minlength=10).max() < 300  # the first 2,000 hold 1,000 airplanes
    assert np.array_equal(cifar10.evaluation_indices(10_000, seed=0), np.arange(10_000))
