"""The day-4 data split: seeded, disjoint train / validation, MNIST's own test images, refusing impossible sizes."""

import numpy as np
import pytest

from src.data.mnist import train_validation_test


def test_split_is_seeded_disjoint_and_sized_as_asked():
    first = train_validation_test(train_size=300, validation_size=100, test_size=50, seed=3)
    again = train_validation_test(train_size=300, validation_size=100, test_size=50, seed=3)
    other = train_validation_test(train_size=300, validation_size=100, test_size=50, seed=4)
    assert {k: len(v[1]) for k, v in first.items()} == {"train": 200, "validation": 100, "test": 50}
    for name in first:
        X, y = first[name]
        assert X.dtype == np.float32 and X.shape[1:] == (28, 28) and 0 <= X.min() and X.max() <= 1
        assert y.dtype == np.int64
        assert np.array_equal(X, again[name][0])  # the same seed, the same images
    assert not np.array_equal(first["train"][0], other["train"][0])
    assert np.array_equal(first["test"][0], other["test"][0])  # the test images never depend on the seed
    train, validation = (first[k][0].reshape(len(first[k][0]), -1) for k in ("train", "validation"))
    shared = {row.tobytes() for row in train} & {row.tobytes() for row in validation}
    assert not shared  # no image both trains and validates


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ((100, 100, 10), "validation_size < train_size"),
        ((60_001, 10, 10), "train_size <= 60000"),
        ((100, 10, 0), "test_size"),
    ],
)
def test_impossible_sizes_are_refused(sizes, message):
    with pytest.raises(ValueError, match=message):
        train_validation_test(*sizes, seed=0)
