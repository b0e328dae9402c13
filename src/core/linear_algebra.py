"""Linear algebra from scratch: matrix products, Gauss-Jordan, LU, QR, Cholesky, eigen and singular values.

No np.linalg inside the algorithms: NumPy arrays hold the numbers and vectorise whole rows and columns, but
every elimination, reflection and rotation is written out. tests/core/test_linear_algebra.py holds each
function equal to numpy.linalg / scipy.linalg.
"""

import numpy as np

from src.core.checks import require_finite
from src.core.math_operations import gradient_descent

EPS = np.finfo(float).eps  # 2.2e-16, the spacing of doubles near 1


class SingularMatrixError(np.linalg.LinAlgError):
    """The matrix is singular (or numerically so). A LinAlgError, hence also a ValueError."""


class NotPositiveDefiniteError(np.linalg.LinAlgError):
    """The matrix is not symmetric positive definite, so it has no Cholesky factor."""


# ---------------------------------------------------------------------------------------------------------
# input checks


def _as_matrix(A, name: str = "A") -> np.ndarray:
    """A as a 2-D float array (a copy), or a ValueError that says what is wrong."""
    A = np.array(A, dtype=float)
    if A.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D matrix, got an array of shape {A.shape}; "
            "use v.reshape(1, -1) for a row or v.reshape(-1, 1) for a column."
        )
    require_finite(A, name)
    return A


def _as_square(A, name: str = "A") -> np.ndarray:
    A = _as_matrix(A, name)
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"{name} must be square, got shape {A.shape}.")
    return A


def _is_symmetric(A: np.ndarray) -> bool:
    return np.max(np.abs(A - A.T), initial=0.0) <= 1e-10 * np.max(np.abs(A), initial=0.0)


def _as_symmetric(A, name: str = "A") -> np.ndarray:
    A = _as_square(A, name)
    if not _is_symmetric(A):
        raise ValueError(f"{name} must be symmetric (A == A.T); symmetrise it with (A + A.T) / 2 if intended.")
    return A


def _check_inner(A: np.ndarray, B: np.ndarray) -> None:
    if A.shape[1] != B.shape[0]:
        raise ValueError(
            f"cannot multiply A of shape {A.shape} by B of shape {B.shape}: "
            f"A's columns ({A.shape[1]}) must equal B's rows ({B.shape[0]})."
        )


def _as_right_hand_side(b, M: np.ndarray, name: str, matrix_name: str) -> np.ndarray:
    """b as a float vector (n,) or matrix (n, k) whose n matches the rows of M, finite everywhere."""
    b = np.asarray(b, dtype=float)
    if b.ndim not in (1, 2) or b.shape[0] != M.shape[0]:
        n = M.shape[0]
        raise ValueError(f"{name} must have shape ({n},) or ({n}, k) to match {matrix_name}, got {b.shape}.")
    require_finite(b, name)
    return b


def _column_norm(x: np.ndarray) -> float:
    return float(np.sqrt(x @ x))


# ---------------------------------------------------------------------------------------------------------
# products


def matmul_pure_python(A, B) -> list[list[float]]:
    """C = A B by three Python loops over lists: C[i][j] = sum_k A[i][k] B[k][j]."""
    A, B = _as_matrix(A, "A"), _as_matrix(B, "B")
    _check_inner(A, B)
    A, B = A.tolist(), B.tolist()
    n_cols = len(B[0]) if B else 0
    C = [[0.0] * n_cols for _ in A]
    # i-k-j order: the inner loop walks row k of B and row i of C, both in storage order, with A[i][k]
    # held fixed as a scalar. The textbook i-j-k order walks *down* a column of B, touching a different
    # row list at every step: slower in Python, and in C it is the cache-miss pattern BLAS avoids.
    for A_i, C_i in zip(A, C, strict=True):
        for a_ik, B_k in zip(A_i, B, strict=True):
            for j in range(n_cols):
                C_i[j] += a_ik * B_k[j]
    return C


def matmul_numpy_rows(A, B) -> np.ndarray:
    """C = A B one row at a time: row i of C is A[i] @ B, a mix of B's rows weighted by A[i]."""
    A, B = _as_matrix(A, "A"), _as_matrix(B, "B")
    _check_inner(A, B)
    C = np.zeros((A.shape[0], B.shape[1]))
    for i in range(A.shape[0]):
        C[i] = A[i] @ B
    return C


def transpose(A) -> np.ndarray:
    """A^T: row i of A becomes column i."""
    A = _as_matrix(A)
    T = np.zeros((A.shape[1], A.shape[0]))
    for i in range(A.shape[0]):
        T[:, i] = A[i]
    return T


# ---------------------------------------------------------------------------------------------------------
# elimination: inverse, LU, triangular solves


def inverse(A) -> np.ndarray:
    """A^-1 by Gauss-Jordan on [A | I] with partial pivoting: row-reduce the left half to I."""
    A = _as_square(A)
    n = A.shape[0]
    M = np.hstack([A, np.eye(n)])
    tol = max(n, 1) * EPS * np.max(np.abs(A), initial=0.0)  # pivots below this are rounding noise
    for col in range(n):
        pivot = col + int(np.argmax(np.abs(M[col:, col])))  # largest entry: keeps multipliers <= 1
        if abs(M[pivot, col]) <= tol:
            raise SingularMatrixError(
                f"matrix is singular: column {col} has no usable pivot (all candidates <= {tol:.2e}); "
                "check for linearly dependent rows or columns."
            )
        M[[col, pivot]] = M[[pivot, col]]
        M[col] /= M[col, col]
        others = np.arange(n) != col
        M[others] -= np.outer(M[others, col], M[col])  # zero the rest of the column
    return M[:, n:]


def lu(A):
    """Partial-pivoting LU: returns (P, L, U) with P @ A = L @ U (LAPACK getrf's convention).

    scipy.linalg.lu returns A = P L U instead, so its P is this P.T. L is unit lower triangular, U upper.
    """
    U = _as_square(A)
    n = U.shape[0]
    L, perm = np.eye(n), np.arange(n)
    for k in range(n - 1):
        p = k + int(np.argmax(np.abs(U[k:, k])))
        U[[k, p]] = U[[p, k]]  # swap rows k and p of U, of the permutation,
        perm[[k, p]] = perm[[p, k]]
        L[[k, p], :k] = L[[p, k], :k]  # and of the multipliers found so far
        if U[k, k] == 0:  # the whole column below is already zero: nothing to eliminate
            continue
        L[k + 1 :, k] = U[k + 1 :, k] / U[k, k]
        U[k + 1 :, k:] -= np.outer(L[k + 1 :, k], U[k, k:])
        U[k + 1 :, k] = 0.0  # exactly, not up to rounding
    return np.eye(n)[perm], L, U


def solve_triangular(L, b, lower: bool = True) -> np.ndarray:
    """Solve L x = b by forward (lower) or back (upper) substitution; only that triangle of L is read.

    b may be a vector (n,) or a matrix (n, k) of right-hand sides.
    """
    L = _as_square(L, "L")
    b = _as_right_hand_side(b, L, "b", "L")
    n = L.shape[0]
    x = np.zeros_like(b)
    for i in range(n) if lower else reversed(range(n)):
        if L[i, i] == 0:
            raise SingularMatrixError(f"triangular matrix is singular: diagonal entry {i} is zero.")
        known = slice(0, i) if lower else slice(i + 1, n)
        x[i] = (b[i] - L[i, known] @ x[known]) / L[i, i]
    return x


# ---------------------------------------------------------------------------------------------------------
# QR


def qr_householder(A):
    """Reduced QR (Q: m x n, R: n x n) by Householder reflectors H = I - 2 v v^T / (v^T v), for m >= n.

    Each H maps the column below the diagonal, x, to -sign(x_0) ||x|| e_1 (the sign avoids cancellation).
    """
    R = _as_matrix(A)
    m, n = R.shape
    if m < n:
        raise ValueError(f"qr_householder needs m >= n (a tall or square matrix), got shape {R.shape}.")
    Q = np.eye(m)
    for k in range(n):
        v = R[k:, k].copy()
        v[0] += (1.0 if v[0] >= 0 else -1.0) * _column_norm(v)
        v_norm = _column_norm(v)
        if v_norm == 0:  # the column is already zero below the diagonal
            continue
        v /= v_norm
        R[k:, k:] -= 2.0 * np.outer(v, v @ R[k:, k:])  # R <- H R
        Q[:, k:] -= 2.0 * np.outer(Q[:, k:] @ v, v)  # Q <- Q H, so A = Q R throughout
    return Q[:, :n], np.triu(R[:n])


def qr_gram_schmidt(A, modified: bool = False):
    """Reduced QR by Gram-Schmidt: q_j = (a_j minus its projections on q_1..q_{j-1}), normalised.

    Classical GS takes all projections from the original a_j and loses orthogonality like cond(A)^2 * eps;
    modified GS (modified=True) projects the running remainder and loses it like cond(A) * eps.
    Only an exactly dependent column raises; nearly dependent ones are the instability on show.
    """
    A = _as_matrix(A)
    m, n = A.shape
    if m < n:
        raise ValueError(f"qr_gram_schmidt needs m >= n (a tall or square matrix), got shape {A.shape}.")
    Q, R = np.zeros((m, n)), np.zeros((n, n))
    for j in range(n):
        v = A[:, j].copy()
        if modified:
            for i in range(j):
                R[i, j] = Q[:, i] @ v
                v -= R[i, j] * Q[:, i]
        else:
            R[:j, j] = Q[:, :j].T @ A[:, j]
            v -= Q[:, :j] @ R[:j, j]
        R[j, j] = _column_norm(v)
        if R[j, j] == 0:
            raise SingularMatrixError(
                f"column {j} is linearly dependent on the columns before it; use qr_householder instead."
            )
        Q[:, j] = v / R[j, j]
    return Q, R


# ---------------------------------------------------------------------------------------------------------
# symmetric matrices: Cholesky and eigenvalues


def cholesky(A) -> np.ndarray:
    """Lower-triangular L with A = L L^T, column by column: L_jj = sqrt(A_jj - sum_k L_jk^2)."""
    A = _as_square(A)
    if not _is_symmetric(A):
        raise NotPositiveDefiniteError("Cholesky needs a symmetric matrix (A == A.T), and this one is not.")
    n = A.shape[0]
    L = np.zeros((n, n))
    for j in range(n):
        d = A[j, j] - L[j, :j] @ L[j, :j]
        if d <= 0:
            raise NotPositiveDefiniteError(
                f"matrix is not positive definite: pivot {j} is {d:.3g} <= 0 "
                f"(the leading {j + 1}x{j + 1} block is not positive definite)."
            )
        L[j, j] = np.sqrt(d)
        L[j + 1 :, j] = (A[j + 1 :, j] - L[j + 1 :, :j] @ L[j, :j]) / L[j, j]
    return L


def _rotate_columns(M: np.ndarray, p: int, q: int, c: float, s: float) -> None:
    """In place, M <- M J for the rotation J = [[c, s], [-s, c]] acting on columns p and q.

    Pass M.T (a view) to rotate rows instead: that is M <- J^T M.
    """
    m_p, m_q = M[:, p].copy(), M[:, q].copy()
    M[:, p] = c * m_p - s * m_q
    M[:, q] = s * m_p + c * m_q


def _jacobi_rotation(a_pp: float, a_qq: float, a_pq: float):
    """(c, s) of the rotation that zeroes a_pq in [[a_pp, a_pq], [a_pq, a_qq]] (Golub & Van Loan 8.5.2)."""
    tau = (a_qq - a_pp) / (2.0 * a_pq)
    t = (1.0 if tau >= 0 else -1.0) / (abs(tau) + np.sqrt(1.0 + tau * tau))  # the smaller angle
    c = 1.0 / np.sqrt(1.0 + t * t)
    return c, t * c


def eigh_jacobi(A, tol: float = 1e-12, max_sweeps: int = 100):
    """Eigen-decomposition of symmetric A by cyclic Jacobi: rotate A <- J^T A J until it is diagonal.

    Returns (w ascending, V) with A V = V diag(w) and V orthogonal (eigenvectors as columns).
    """
    A = _as_symmetric(A)
    n = A.shape[0]
    V = np.eye(n)
    scale = np.sqrt(np.sum(A * A)) or 1.0
    for sweep in range(max_sweeps + 1):
        off_diagonal = A - np.diag(np.diag(A))  # not sum(A^2) - sum(diag^2): that cancels catastrophically
        off = np.sqrt(np.sum(off_diagonal**2))
        if off <= tol * scale:
            break
        if sweep == max_sweeps:
            raise np.linalg.LinAlgError(f"Jacobi did not converge in {max_sweeps} sweeps; raise max_sweeps.")
        for p in range(n - 1):
            for q in range(p + 1, n):
                if A[p, q] == 0:
                    continue
                c, s = _jacobi_rotation(A[p, p], A[q, q], A[p, q])
                _rotate_columns(A, p, q, c, s)  # A <- A J
                _rotate_columns(A.T, p, q, c, s)  # A <- J^T A
                _rotate_columns(V, p, q, c, s)  # V <- V J
                A[p, q] = A[q, p] = 0.0
    order = np.argsort(np.diag(A), kind="stable")
    return np.diag(A)[order], V[:, order]


# ---------------------------------------------------------------------------------------------------------
# singular values


def svd_jacobi(A, tol: float = 1e-12, max_sweeps: int = 100):
    """Reduced SVD A = U diag(S) Vt by one-sided Jacobi (Hestenes), S descending.

    Rotate pairs of columns of U = A V until all are orthogonal; then S_j = ||U_j|| and U_j /= S_j.
    A wide matrix (m < n) is handled through its transpose: A^T = V S U^T.
    """
    A = _as_matrix(A)
    if A.shape[0] < A.shape[1]:
        U, S, Vt = svd_jacobi(A.T, tol, max_sweeps)
        return Vt.T, S, U.T
    n = A.shape[1]
    U, V = A.copy(), np.eye(n)
    for sweep in range(max_sweeps + 1):
        rotated = False
        for p in range(n - 1):
            for q in range(p + 1, n):
                alpha, beta, gamma = U[:, p] @ U[:, p], U[:, q] @ U[:, q], U[:, p] @ U[:, q]
                if abs(gamma) <= tol * np.sqrt(alpha * beta):
                    continue  # already orthogonal (this also skips zero columns)
                # the Jacobi eigen rotation of the Gram matrix [[alpha, gamma], [gamma, beta]] of columns p, q
                c, s = _jacobi_rotation(alpha, beta, gamma)
                _rotate_columns(U, p, q, c, s)
                _rotate_columns(V, p, q, c, s)
                rotated = True
        if not rotated:
            break
        if sweep == max_sweeps:
            raise np.linalg.LinAlgError(f"one-sided Jacobi did not converge in {max_sweeps} sweeps.")
    S = np.sqrt(np.sum(U * U, axis=0))
    order = np.argsort(-S, kind="stable")
    S, U, V = S[order], U[:, order], V[:, order]
    return _normalise_columns(U, S), S, V.T


def _normalise_columns(U: np.ndarray, S: np.ndarray) -> np.ndarray:
    """U_j / S_j, replacing columns with negligible S_j (rank deficiency) by an orthonormal completion."""
    rank = int(np.sum(S > max(U.shape) * EPS * (S[0] if len(S) else 0.0)))
    U = U.copy()
    U[:, :rank] /= S[:rank]
    for j in range(rank, U.shape[1]):
        for e in np.eye(U.shape[0]):  # first standard basis vector not already in span(U[:, :j])
            v = e - U[:, :j] @ (U[:, :j].T @ e)
            v -= U[:, :j] @ (U[:, :j].T @ v)  # project twice: once is not enough in floating point
            if _column_norm(v) > 0.5:
                U[:, j] = v / _column_norm(v)
                break
    return U


def condition_number(A) -> float:
    """2-norm condition number sigma_max / sigma_min (inf when sigma_min is 0)."""
    if _as_matrix(A).size == 0:
        raise ValueError("condition_number needs a non-empty matrix.")
    S = svd_jacobi(A)[1]
    return float(S[0] / S[-1]) if S[-1] > 0 else np.inf


# ---------------------------------------------------------------------------------------------------------
# least squares


def _check_regression(X, y):
    X = _as_matrix(X, "X")
    return X, _as_right_hand_side(y, X, "y", "X")


def lstsq_normal_equations(X, y) -> np.ndarray:
    """argmin_w ||X w - y||^2 by the normal equations X^T X w = X^T y: Cholesky, then two triangular solves.

    Squares the condition number (cond(X^T X) = cond(X)^2); QR or SVD are the stable alternatives.
    """
    X, y = _check_regression(X, y)
    try:
        L = cholesky(X.T @ X)
    except NotPositiveDefiniteError as err:
        raise NotPositiveDefiniteError(
            "X^T X is not positive definite: the columns of X are linearly dependent "
            "(or there are fewer samples than features); drop redundant columns or regularise."
        ) from err
    z = solve_triangular(L, X.T @ y, lower=True)  # L z = X^T y
    return solve_triangular(L.T, z, lower=False)  # L^T w = z


def lstsq_gradient_descent(X, y, lr: float | None = None, n_steps: int = 1000, tol: float = 1e-10):
    """Least squares by gradient descent on the mean squared error MSE(w) = ||X w - y||^2 / n.

    grad MSE = 2 X^T (X w - y) / n. Returns (w, loss_history), loss_history[k] the MSE at iterate k
    (k = 0 is w = 0); stops early once ||grad|| < tol.
    """
    X, y = _check_regression(X, y)
    n = X.shape[0]
    if lr is None:
        # The MSE's Hessian is 2 X^T X / n, so its gradient is Lipschitz with L = 2 lambda_max(X^T X / n)
        # (the factor 2 disappears if one minimises MSE / 2 instead). lr = 1/L is the classic safe step:
        # it decreases the loss at every step, while any lr above 2/L diverges along the top eigenvector.
        L = 2.0 * eigh_jacobi(X.T @ X / n)[0][-1]
        if L <= 0:
            raise ValueError("X is all zeros: there is nothing to fit.")
        lr = 1.0 / L
    w0 = np.zeros((X.shape[1],) + y.shape[1:])
    w, history = gradient_descent(lambda w: 2.0 * X.T @ (X @ w - y) / n, w0, lr, n_steps, tol=tol)
    loss_history = [float(np.sum((X @ wk - y) ** 2) / n) for wk in history]
    return w, loss_history


# ---------------------------------------------------------------------------------------------------------
# test matrices


def random_matrix_with_condition(n: int, cond: float, rng=None) -> np.ndarray:
    """A random n x n matrix U diag(s) V^T with s log-spaced from 1 down to 1/cond, so cond_2 = cond.

    A test-data generator, not an algorithm: U and V come from NumPy's QR so the matrices do not depend
    on the code they are used to test. rng: a np.random.Generator, a seed, or None.
    """
    if not (isinstance(n, int | np.integer) and n >= 1):
        raise ValueError(f"n must be a positive integer, got {n!r}.")
    if not (np.isfinite(cond) and cond >= 1):
        raise ValueError(f"cond must be a finite number >= 1, got {cond!r}.")
    rng = np.random.default_rng(rng)
    U, _ = np.linalg.qr(rng.standard_normal((n, n)))
    V, _ = np.linalg.qr(rng.standard_normal((n, n)))
    s = np.logspace(0, -np.log10(cond), n)
    return (U * s) @ V.T
