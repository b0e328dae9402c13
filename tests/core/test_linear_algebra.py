"""src.core.linear_algebra held equal to numpy.linalg and scipy.linalg."""

import numpy as np
import pytest
import scipy.linalg

from src.core.linear_algebra import (
    NotPositiveDefiniteError,
    SingularMatrixError,
    cholesky,
    condition_number,
    eigh_jacobi,
    inverse,
    lstsq_gradient_descent,
    lstsq_normal_equations,
    lu,
    matmul_numpy_rows,
    matmul_pure_python,
    qr_gram_schmidt,
    qr_householder,
    random_matrix_with_condition,
    solve_triangular,
    svd_jacobi,
    transpose,
)

rng = np.random.default_rng(0)


def orthogonality_loss(Q):
    """||Q^T Q - I||_2: 0 for exactly orthonormal columns, O(1) when orthogonality is lost."""
    return np.linalg.norm(Q.T @ Q - np.eye(Q.shape[1]), 2)


def random_spd(n):
    X = rng.standard_normal((n + 5, n))
    return X.T @ X


# products


@pytest.mark.parametrize("shapes", [((3, 3), (3, 3)), ((2, 5), (5, 4)), ((1, 6), (6, 3)), ((4, 1), (1, 4))])
def test_matmul_equals_numpy(shapes):
    A, B = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    C = matmul_pure_python(A.tolist(), B.tolist())
    assert isinstance(C, list) and isinstance(C[0], list)
    np.testing.assert_allclose(C, A @ B, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(matmul_numpy_rows(A, B), A @ B, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("matmul", [matmul_pure_python, matmul_numpy_rows])
def test_matmul_shape_mismatch_names_both_shapes(matmul):
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 3\)"):
        matmul(np.ones((2, 3)), np.ones((2, 3)))


def test_transpose_equals_numpy():
    A = rng.standard_normal((3, 5))
    np.testing.assert_array_equal(transpose(A), A.T)
    np.testing.assert_array_equal(transpose([[1.0, 2.0, 3.0]]), [[1.0], [2.0], [3.0]])


# inverse and LU


@pytest.mark.parametrize("n", [1, 4, 12])
def test_inverse_equals_numpy(n):
    A = random_matrix_with_condition(n, 10.0, rng)
    A_inv = inverse(A)
    np.testing.assert_allclose(A @ A_inv, np.eye(n), atol=1e-12)
    np.testing.assert_allclose(A_inv, np.linalg.inv(A), rtol=1e-10, atol=1e-12)


def test_inverse_needs_pivoting_for_a_zero_diagonal():
    A = np.array([[0.0, 2.0, 1.0], [1.0, 0.0, 3.0], [4.0, 1.0, 0.0]])
    np.testing.assert_allclose(inverse(A), np.linalg.inv(A), rtol=1e-12)


@pytest.mark.parametrize(
    "A",
    [np.array([[1.0, 2.0], [2.0, 4.0]]), np.arange(1.0, 10.0).reshape(3, 3), np.zeros((3, 3))],
    ids=["rank1", "rank2_rounding", "zeros"],
)
def test_inverse_of_singular_matrix_raises(A):
    with pytest.raises(SingularMatrixError, match="column .* has no usable pivot"):
        inverse(A)
    assert issubclass(SingularMatrixError, np.linalg.LinAlgError)
    assert issubclass(SingularMatrixError, ValueError)


@pytest.mark.parametrize("n", [1, 5, 9])
def test_lu_factors(n):
    A = rng.standard_normal((n, n))
    A[0, 0] = 0.0  # forces a row swap at step 0
    P, L, U = lu(A)
    np.testing.assert_allclose(P @ A, L @ U, atol=1e-12)
    np.testing.assert_array_equal(np.tril(L), L)
    np.testing.assert_array_equal(np.diag(L), np.ones(n))
    assert np.all(np.abs(L) <= 1.0 + 1e-15)  # partial pivoting bounds the multipliers
    np.testing.assert_array_equal(np.triu(U), U)
    np.testing.assert_array_equal(np.sort(P, axis=0)[-1], np.ones(n))  # one 1 per column...
    np.testing.assert_array_equal(P.sum(axis=1), np.ones(n))  # ...and per row: a permutation
    # scipy uses A = P L U, so its P is our P.T; with partial pivoting the factors are the same.
    P_sp, L_sp, U_sp = scipy.linalg.lu(A)
    np.testing.assert_array_equal(P_sp, P.T)
    np.testing.assert_allclose(L, L_sp, atol=1e-12)
    np.testing.assert_allclose(U, U_sp, atol=1e-12)


def test_lu_of_singular_matrix_still_factors():
    A = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    P, L, U = lu(A)
    np.testing.assert_allclose(P @ A, L @ U, atol=1e-14)
    assert U[2, 2] == pytest.approx(0.0, abs=1e-14)


def test_solve_triangular_equals_scipy():
    L = np.tril(rng.standard_normal((5, 5))) + 5 * np.eye(5)
    b, B = rng.standard_normal(5), rng.standard_normal((5, 3))
    np.testing.assert_allclose(solve_triangular(L, b), scipy.linalg.solve_triangular(L, b, lower=True))
    np.testing.assert_allclose(
        solve_triangular(L.T, B, lower=False), scipy.linalg.solve_triangular(L.T, B, lower=False)
    )
    with pytest.raises(SingularMatrixError, match="diagonal entry 2"):
        solve_triangular(np.diag([1.0, 1.0, 0.0]), np.ones(3))
    with pytest.raises(ValueError, match="b must have shape"):
        solve_triangular(L, np.ones(4))


# QR


def assert_valid_qr(Q, R, A):
    m, n = A.shape
    assert Q.shape == (m, n) and R.shape == (n, n)
    np.testing.assert_allclose(Q.T @ Q, np.eye(n), atol=1e-12)
    np.testing.assert_array_equal(np.triu(R), R)
    np.testing.assert_allclose(Q @ R, A, atol=1e-12)
    # QR is unique up to the sign of each column of Q (row of R): compare with those signs removed.
    Q_np, R_np = np.linalg.qr(A)
    signs = np.sign(np.diag(R)) * np.sign(np.diag(R_np))
    np.testing.assert_allclose(Q * signs, Q_np, atol=1e-10)
    np.testing.assert_allclose(R * signs[:, None], R_np, atol=1e-10)


@pytest.mark.parametrize("shape", [(5, 5), (8, 3), (6, 1)])
@pytest.mark.parametrize(
    "qr",
    [qr_householder, qr_gram_schmidt, lambda A: qr_gram_schmidt(A, modified=True)],
    ids=["householder", "classical_gs", "modified_gs"],
)
def test_qr_equals_numpy(qr, shape):
    A = rng.standard_normal(shape)
    assert_valid_qr(*qr(A), A)


def test_householder_sign_avoids_cancellation():
    """Columns already almost upper triangular: reflecting x onto +||x|| e_1 would compute x_0 - ||x|| ~ 0
    by cancellation and lose the tiny subdiagonal; the -sign(x_0) choice keeps Q R = A.
    """
    A = np.triu(rng.standard_normal((5, 5))) + 1e-9 * np.tril(rng.standard_normal((5, 5)), -1)
    assert_valid_qr(*qr_householder(A), A)


def test_classical_gram_schmidt_loses_orthogonality():
    """The teaching point: at cond 1e10, classical GS returns a Q that is not orthogonal at all
    (loss ~ cond^2 * eps, saturating at O(1)); modified GS loses ~ cond * eps; Householder stays at ~eps.
    """
    A = random_matrix_with_condition(40, 1e10, rng)
    house = orthogonality_loss(qr_householder(A)[0])
    classical = orthogonality_loss(qr_gram_schmidt(A)[0])
    modified = orthogonality_loss(qr_gram_schmidt(A, modified=True)[0])
    assert house < 1e-13
    assert classical > 0.1
    assert classical / house > 1e10
    assert house < modified < classical
    # all three still reproduce A: the failure is in Q's orthogonality, not in the product Q R
    for Q, R in (qr_householder(A), qr_gram_schmidt(A), qr_gram_schmidt(A, modified=True)):
        np.testing.assert_allclose(Q @ R, A, atol=1e-12)


def test_qr_rejects_wide_and_dependent_matrices():
    with pytest.raises(ValueError, match=r"m >= n.*\(2, 3\)"):
        qr_householder(np.ones((2, 3)))
    with pytest.raises(SingularMatrixError, match="column 1 is linearly dependent"):
        qr_gram_schmidt([[1.0, 2.0], [0.0, 0.0], [0.0, 0.0]])  # a_1 - 2 q_0 is exactly zero


# symmetric matrices


@pytest.mark.parametrize("n", [1, 3, 10])
def test_cholesky_equals_numpy(n):
    A = random_spd(n)
    L = cholesky(A)
    np.testing.assert_allclose(L, np.linalg.cholesky(A), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(L @ L.T, A, rtol=1e-12, atol=1e-12)


def test_cholesky_rejects_non_spd():
    with pytest.raises(NotPositiveDefiniteError, match="not positive definite: pivot 1"):
        cholesky([[1.0, 2.0], [2.0, 1.0]])  # eigenvalues 3 and -1
    with pytest.raises(NotPositiveDefiniteError, match="symmetric"):
        cholesky([[2.0, 1.0], [0.0, 2.0]])
    with pytest.raises(np.linalg.LinAlgError):  # the same exception type NumPy raises
        cholesky(-np.eye(3))


@pytest.mark.parametrize("n", [1, 2, 6, 15])
def test_eigh_jacobi_equals_numpy(n):
    B = rng.standard_normal((n, n))
    A = B + B.T
    w, V = eigh_jacobi(A)
    np.testing.assert_allclose(w, np.linalg.eigvalsh(A), rtol=1e-10, atol=1e-12)
    assert np.all(np.diff(w) >= 0)
    np.testing.assert_allclose(A @ V, V * w, atol=1e-10)
    np.testing.assert_allclose(V.T @ V, np.eye(n), atol=1e-12)


def test_eigh_jacobi_repeated_eigenvalues():
    Q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    A = Q @ np.diag([2.0, 2.0, -1.0, 5.0]) @ Q.T
    A = (A + A.T) / 2
    w, V = eigh_jacobi(A)
    np.testing.assert_allclose(w, [-1.0, 2.0, 2.0, 5.0], atol=1e-12)
    np.testing.assert_allclose(A @ V, V * w, atol=1e-12)


def test_eigh_jacobi_rejects_non_symmetric():
    with pytest.raises(ValueError, match="must be symmetric"):
        eigh_jacobi([[1.0, 2.0], [0.0, 1.0]])


# SVD


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 5), (7, 1), (1, 7)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_svd_jacobi_equals_numpy(shape):
    A = rng.standard_normal(shape)
    U, S, Vt = svd_jacobi(A)
    k = min(shape)
    assert U.shape == (shape[0], k) and S.shape == (k,) and Vt.shape == (k, shape[1])
    np.testing.assert_allclose(S, np.linalg.svd(A, compute_uv=False), rtol=1e-10)
    np.testing.assert_allclose(U * S @ Vt, A, atol=1e-12)
    np.testing.assert_allclose(U.T @ U, np.eye(k), atol=1e-12)
    np.testing.assert_allclose(Vt @ Vt.T, np.eye(k), atol=1e-12)


@pytest.mark.parametrize("shape", [(8, 5), (5, 8)])
def test_svd_jacobi_rank_deficient(shape):
    A = rng.standard_normal((shape[0], 2)) @ rng.standard_normal((2, shape[1]))  # rank 2
    U, S, Vt = svd_jacobi(A)
    np.testing.assert_allclose(S, np.linalg.svd(A, compute_uv=False), atol=1e-12)
    assert np.all(S[2:] < 1e-12)
    np.testing.assert_allclose(U * S @ Vt, A, atol=1e-12)
    np.testing.assert_allclose(U.T @ U, np.eye(5), atol=1e-12)  # completed to orthonormal columns
    np.testing.assert_allclose(Vt @ Vt.T, np.eye(5), atol=1e-12)


def test_svd_jacobi_zero_matrix():
    U, S, Vt = svd_jacobi(np.zeros((3, 2)))
    np.testing.assert_array_equal(S, [0.0, 0.0])
    np.testing.assert_allclose(U.T @ U, np.eye(2))


@pytest.mark.parametrize("cond", [1.0, 1e3, 1e10])
def test_condition_number(cond):
    A = random_matrix_with_condition(8, cond, rng)
    assert np.linalg.cond(A) == pytest.approx(cond, rel=1e-4)  # the generator does what it says
    assert condition_number(A) == pytest.approx(np.linalg.cond(A), rel=1e-6)


def test_condition_number_of_non_square_matrix():
    A = rng.standard_normal((6, 3))
    assert condition_number(A) == pytest.approx(np.linalg.cond(A), rel=1e-10)
    assert condition_number(np.zeros((2, 2))) == np.inf


# least squares


def regression_problem(n=200, d=5):
    X = rng.standard_normal((n, d))
    w_true = rng.standard_normal(d)
    return X, X @ w_true + 0.1 * rng.standard_normal(n)


def test_lstsq_normal_equations_equals_numpy():
    X, y = regression_problem()
    np.testing.assert_allclose(lstsq_normal_equations(X, y), np.linalg.lstsq(X, y)[0], rtol=1e-10)
    Y = np.column_stack([y, 2 * y])  # several right-hand sides at once
    np.testing.assert_allclose(lstsq_normal_equations(X, Y), np.linalg.lstsq(X, Y)[0], rtol=1e-10)


def test_lstsq_normal_equations_rank_deficient_raises():
    X, y = regression_problem()
    X[:, 4] = X[:, 3]
    with pytest.raises(NotPositiveDefiniteError, match="linearly dependent"):
        lstsq_normal_equations(X, y)


def test_lstsq_gradient_descent_equals_numpy():
    """GD with lr = 1/L stops once ||grad|| < 1e-10; on this well-conditioned X (cond(X^T X) ~ 1.5) that
    leaves w within 1e-8 of the exact solution, a looser tolerance than the direct solver's 1e-10.
    """
    X, y = regression_problem()
    w, losses = lstsq_gradient_descent(X, y)
    np.testing.assert_allclose(w, np.linalg.lstsq(X, y)[0], rtol=1e-8, atol=1e-8)
    assert len(losses) < 1001  # stopped early on the gradient tolerance
    assert np.all(np.diff(losses) <= 1e-15)  # 1/L steps never increase the loss
    residual = X @ w - y
    assert losses[-1] == pytest.approx(residual @ residual / len(y))  # the MSE itself, not MSE / 2


def test_lstsq_gradient_descent_default_lr_is_one_over_lipschitz():
    X, y = regression_problem()
    X[:, 0] *= 10  # spread the spectrum so that a wrong L would be visible
    n = len(y)
    lr = 1 / (2 * np.linalg.eigvalsh(X.T @ X / n)[-1])  # 1/L with L = 2 lambda_max(X^T X / n)
    w1 = lr * 2 * X.T @ y / n  # one step from w = 0
    _, losses = lstsq_gradient_descent(X, y, n_steps=1)
    assert losses[1] == pytest.approx(np.mean((X @ w1 - y) ** 2), rel=1e-12)
    _, losses = lstsq_gradient_descent(X, y, n_steps=300)
    assert np.all(np.diff(losses) <= 1e-15)


def test_lstsq_gradient_descent_with_fixed_lr():
    X, y = regression_problem()
    w, losses = lstsq_gradient_descent(X, y, lr=0.05, n_steps=20, tol=0.0)
    assert len(losses) == 21
    assert losses[-1] < losses[0] / 10


def test_lstsq_rejects_mismatched_y():
    X, y = regression_problem()
    for solver in (lstsq_normal_equations, lstsq_gradient_descent):
        with pytest.raises(ValueError, match=r"y must have shape \(200,\)"):
            solver(X, y[:-1])


# input validation shared by every function


@pytest.mark.parametrize(
    "func",
    [
        inverse,
        lu,
        cholesky,
        eigh_jacobi,
        svd_jacobi,
        qr_householder,
        qr_gram_schmidt,
        condition_number,
        transpose,
    ],
)
def test_nan_inf_and_bad_shapes_raise(func):
    A = random_spd(3)
    for bad in (np.nan, np.inf):
        A_bad = A.copy()
        A_bad[1, 2] = A_bad[2, 1] = bad
        with pytest.raises(ValueError, match="contains 2 NaN/inf value"):
            func(A_bad)
    with pytest.raises(ValueError, match=r"2-D matrix, got an array of shape \(3,\)"):
        func(np.ones(3))


@pytest.mark.parametrize("func", [inverse, lu, cholesky, eigh_jacobi])
def test_square_only_functions_reject_rectangles(func):
    with pytest.raises(ValueError, match=r"must be square, got shape \(2, 3\)"):
        func(np.ones((2, 3)))


def test_random_matrix_with_condition_validates():
    with pytest.raises(ValueError, match="cond must be"):
        random_matrix_with_condition(3, 0.5, rng)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        random_matrix_with_condition(0, 10.0, rng)
    np.testing.assert_array_equal(random_matrix_with_condition(4, 10.0, 7), random_matrix_with_condition(4, 10.0, 7))
