"""The nested combiners: each fold's combination is chosen without that fold's labels, and it learns what is
there to learn (a member that is always right gets the weight)."""

import numpy as np

from src.capstone.combiners import nested_weight_out_of_fold, stacked_out_of_fold
from src.capstone.data import LABELS

RNG = np.random.default_rng(0)
N = 90
LABEL_IDS = np.arange(N) % 3
TRUTH = np.array(LABELS)[LABEL_IDS]
FOLDS = [(np.setdiff1d(np.arange(N), test), test) for test in np.array_split(RNG.permutation(N), 3)]


def noisy(accuracy: float) -> np.ndarray:
    """Probabilities whose argmax is right on about `accuracy` of the rows."""
    right = RNG.random(N) < accuracy
    predicted = np.where(right, LABEL_IDS, (LABEL_IDS + 1) % 3)
    return 0.2 / 3 + 0.8 * np.eye(3)[predicted] * RNG.uniform(0.6, 1.0, (N, 1)) + RNG.uniform(0, 0.05, (N, 3))


def test_the_better_member_gets_the_weight_and_the_stacker_follows_it():
    good, bad = noisy(0.95), noisy(0.4)
    mixed, weights = nested_weight_out_of_fold(good, bad, TRUTH, FOLDS)
    assert len(weights) == 3 and all(w >= 0.5 for w in weights)
    for (_, test), w in zip(FOLDS, weights, strict=True):
        np.testing.assert_allclose(mixed[test], w * good[test] + (1 - w) * bad[test])
    stacked = stacked_out_of_fold({"good": good, "bad": bad}, TRUTH, FOLDS)
    np.testing.assert_allclose(stacked.sum(1), 1.0)
    assert (stacked.argmax(1) == LABEL_IDS).mean() >= (good.argmax(1) == LABEL_IDS).mean() - 0.05


def test_no_fold_is_combined_by_looking_at_its_own_labels():
    a, b = noisy(0.7), noisy(0.6)
    for _, test in FOLDS:
        changed = TRUTH.copy()
        changed[test] = np.array(LABELS)[(LABEL_IDS[test] + 1) % 3]  # every label of this fold wrong
        for combine in (
            lambda labels: nested_weight_out_of_fold(a, b, labels, FOLDS)[0],
            lambda labels: stacked_out_of_fold({"a": a, "b": b}, labels, FOLDS),
        ):
            np.testing.assert_array_equal(combine(changed)[test], combine(TRUTH)[test])
