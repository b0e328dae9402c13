"""How accurate and how stable are the from-scratch decompositions, measured against LAPACK.

Errors are relative Frobenius norms: ||reconstruction - original|| / ||original||, and ||Q^T Q - I|| for the
orthogonality of a factor that should be orthogonal.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.linalg
from tqdm import tqdm

from src.benchmark import best_time
from src.core import linear_algebra as la


def relative_error(approx, exact) -> float:
    return float(np.linalg.norm(approx - exact) / np.linalg.norm(exact))


def orthogonality_error(Q) -> float:
    return float(np.linalg.norm(Q.T @ Q - np.eye(Q.shape[1])))


@dataclass
class DecompositionCheck:
    operation: str  # e.g. "qr_householder"; its from-scratch variant is logged as scratch_<operation>
    scratch: Callable[[], object]
    reference_name: str  # e.g. "numpy_qr"
    reference: Callable[[], object]
    score: Callable[[object], dict[str, float]]  # result -> {"reconstruction_error": ..., ...}


def scipy_lu_as_pa_eq_lu(A):
    """scipy returns A = P L U; our convention is P A = L U, so hand back P^T."""
    P, L, U = scipy.linalg.lu(A)
    return P.T, L, U


def decomposition_checks(A: np.ndarray, S: np.ndarray) -> list[DecompositionCheck]:
    """One check per decomposition; A is a general square matrix, S a symmetric positive definite one."""

    def qr_score(qr):
        Q, R = qr
        return {"reconstruction_error": relative_error(Q @ R, A), "orthogonality_error": orthogonality_error(Q)}

    def eigh_score(wv):
        w, V = wv
        return {
            "reconstruction_error": relative_error(V @ np.diag(w) @ V.T, S),
            "orthogonality_error": orthogonality_error(V),
        }

    def svd_score(usv):
        U, s, Vt = usv
        return {
            "reconstruction_error": relative_error(U @ np.diag(s) @ Vt, A),
            "orthogonality_error": orthogonality_error(U),
        }

    def inverse_score(inv):
        return {"reconstruction_error": relative_error(A @ inv, np.eye(len(A)))}

    def lu_score(plu):
        P, L, U = plu
        return {"reconstruction_error": relative_error(L @ U, P @ A)}

    def cholesky_score(L):
        return {"reconstruction_error": relative_error(L @ L.T, S)}

    return [
        DecompositionCheck("inverse", lambda: la.inverse(A), "numpy_inv", lambda: np.linalg.inv(A), inverse_score),
        DecompositionCheck("lu", lambda: la.lu(A), "scipy_lu", lambda: scipy_lu_as_pa_eq_lu(A), lu_score),
        DecompositionCheck(
            "qr_householder", lambda: la.qr_householder(A), "numpy_qr", lambda: np.linalg.qr(A), qr_score
        ),
        DecompositionCheck(
            "qr_gram_schmidt", lambda: la.qr_gram_schmidt(A), "numpy_qr", lambda: np.linalg.qr(A), qr_score
        ),
        DecompositionCheck(
            "cholesky", lambda: la.cholesky(S), "numpy_cholesky", lambda: np.linalg.cholesky(S), cholesky_score
        ),
        DecompositionCheck("eigh", lambda: la.eigh_jacobi(S), "numpy_eigh", lambda: np.linalg.eigh(S), eigh_score),
        DecompositionCheck("svd", lambda: la.svd_jacobi(A), "numpy_svd", lambda: np.linalg.svd(A), svd_score),
    ]


def decomposition_matrices(size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(A, S): a standard-normal size x size matrix and A A^T + size I, symmetric positive definite by
    construction (for Cholesky and the symmetric eigensolver)."""
    A = rng.standard_normal((size, size))
    return A, A @ A.T + size * np.eye(size)


def compare_decompositions(A: np.ndarray, S: np.ndarray, repeats: int = 3) -> tuple[list[dict], dict[str, dict]]:
    """Every check of decomposition_checks, both ways, timed in this process on the same matrices.

    Returns (rows for the plot: operation, implementation, reconstruction_error, seconds; {variant: metrics}
    with variants scratch_<operation> and the references' names). A reference shared by two checks (numpy_qr for
    both QR methods) keeps its first measurement. The scratch variants also get time_ratio_vs_reference, and
    eigh and SVD the largest difference of their eigen/singular values from LAPACK's (the invariant part of
    the answer: vectors may differ by sign)."""
    rows, metrics = [], {}
    for check in tqdm(decomposition_checks(A, S), desc="decompositions", unit="op"):
        scratch_name = f"scratch_{check.operation}"
        seconds = {}
        for variant, call in ((scratch_name, check.scratch), (check.reference_name, check.reference)):
            seconds[variant] = best_time(call, repeats=repeats)
            scores = {**check.score(call()), "seconds": seconds[variant]}
            metrics.setdefault(variant, scores)
            rows.append(
                {
                    "operation": check.operation,
                    "implementation": variant.split("_")[0],
                    "reconstruction_error": scores["reconstruction_error"],
                    "seconds": seconds[variant],
                }
            )
        metrics[scratch_name]["time_ratio_vs_reference"] = seconds[scratch_name] / seconds[check.reference_name]
    eigenvalues = la.eigh_jacobi(S)[0]
    metrics["scratch_eigh"]["eigenvalues_max_abs_diff"] = np.abs(eigenvalues - np.linalg.eigvalsh(S)).max()
    singular_values = la.svd_jacobi(A)[1]
    singular_diff = np.abs(singular_values - np.linalg.svd(A, compute_uv=False)).max()
    metrics["scratch_svd"]["singular_values_max_abs_diff"] = singular_diff
    return rows, metrics


QR_METHODS = {
    "classical_gram_schmidt": lambda M: la.qr_gram_schmidt(M)[0],
    "modified_gram_schmidt": lambda M: la.qr_gram_schmidt(M, modified=True)[0],
    "householder": lambda M: la.qr_householder(M)[0],
    "numpy_qr": lambda M: np.linalg.qr(M)[0],
}


def stability_sweep(size: int, log10_conditions, rng) -> list[dict]:
    """For matrices of growing condition number: each QR method's loss of orthogonality, and the residual
    ||A inv(A) - I|| of the from-scratch and LAPACK inverses. Theory: classical Gram-Schmidt loses
    orthogonality like eps*cond^2, modified GS like eps*cond, Householder stays near eps."""
    rows = []
    eye = np.eye(size)
    for log10_cond in log10_conditions:
        M = la.random_matrix_with_condition(size, 10.0**log10_cond, rng)
        row = {"log10_condition": log10_cond}
        row.update({name: orthogonality_error(q_of(M)) for name, q_of in QR_METHODS.items()})
        row["scratch_inverse_residual"] = float(np.linalg.norm(M @ la.inverse(M) - eye))
        row["numpy_inverse_residual"] = float(np.linalg.norm(M @ np.linalg.inv(M) - eye))
        rows.append(row)
    return rows
