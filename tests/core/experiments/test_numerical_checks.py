"""The checks the day 1 stage reports: every from-scratch decomposition scores like LAPACK's, and the
stability sweep shows the textbook ordering Householder < modified GS < classical GS."""

import numpy as np

from src.core.experiments.numerical_checks import (
    compare_decompositions,
    decomposition_checks,
    decomposition_matrices,
    stability_sweep,
)


def test_every_scratch_decomposition_reconstructs_like_its_reference():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((12, 12))
    S = A @ A.T + 12 * np.eye(12)
    for check in decomposition_checks(A, S):
        scratch, reference = check.score(check.scratch()), check.score(check.reference())
        assert scratch.keys() == reference.keys()
        for name, value in scratch.items():
            assert value < 1e-11, (check.operation, name, value)


def test_stability_sweep_orders_the_qr_methods():
    rows = stability_sweep(20, [0, 8], np.random.default_rng(0))
    well, ill = rows
    assert max(well["classical_gram_schmidt"], well["householder"]) < 1e-13  # cond 1: all orthogonal
    assert ill["householder"] < 1e-13 < ill["modified_gram_schmidt"] < ill["classical_gram_schmidt"]
    assert ill["scratch_inverse_residual"] < 1e-5  # eps * cond = 2e-8, times a modest constant


def test_comparison_scores_and_times_every_variant_once_on_the_same_matrices():
    A, S = decomposition_matrices(10, np.random.default_rng(0))
    np.testing.assert_allclose(S, S.T)
    assert np.linalg.eigvalsh(S).min() >= 10 - 1e-9  # A A^T + n I: positive definite by construction
    rows, metrics = compare_decompositions(A, S, repeats=1)
    operations = [c.operation for c in decomposition_checks(A, S)]
    assert len(rows) == 2 * len(operations)  # one row per implementation per operation
    for op in operations:
        scratch = metrics[f"scratch_{op}"]
        assert scratch["reconstruction_error"] < 1e-11 and scratch["time_ratio_vs_reference"] > 0, op
    assert set(metrics) == {f"scratch_{op}" for op in operations} | {
        c.reference_name for c in decomposition_checks(A, S)
    }
    assert metrics["scratch_eigh"]["eigenvalues_max_abs_diff"] < 1e-9
    assert metrics["scratch_svd"]["singular_values_max_abs_diff"] < 1e-9
