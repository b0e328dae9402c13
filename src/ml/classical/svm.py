"""A support vector machine trained by John Platt's Sequential Minimal Optimization (SMO, 1998).

    svm = SVM(kernel="rbf", C=1.0).fit(X_train, y_train)
    svm.decision_function(X_test); svm.predict(X_test)

The soft-margin dual, for labels y_i in {-1, +1} and a kernel K:
    maximise  W(a) = sum_i a_i - 1/2 sum_ij a_i a_j y_i y_j K(x_i, x_j)
    subject to 0 <= a_i <= C and sum_i a_i y_i = 0,
and the classifier is f(x) = sum_i a_i y_i K(x_i, x) - b; the x_i with a_i > 0 are the support vectors.
SMO repeatedly picks two multipliers and solves the dual for just those two in closed form (two is the fewest
that can move while keeping sum a_i y_i = 0): a_2 moves by y_2 (E_1 - E_2) / eta, clipped to the box, where
E_i = f(x_i) - y_i and eta = K_11 + K_22 - 2 K_12, and a_1 moves to keep the equality. Platt's heuristics pick
the pair: the first multiplier violates the KKT conditions (y_i f(x_i) >= 1 if a_i = 0, = 1 if 0 < a_i < C,
<= 1 if a_i = C) by more than `tol`; the second maximises |E_1 - E_2|, the size of the step.
It stops when a sweep over all samples changes nothing.

Multiclass: one-vs-rest, one binary machine per class, predicting the class with the largest f(x).
Where the time goes, compared with libsvm: the pair selection is a Python loop (libsvm's is compiled C), and
we precompute the whole n x n kernel matrix (libsvm caches the rows it needs and shrinks the active set).
"""

import numpy as np

from src.ml.classical.base import Classifier, check_X, check_X_y

KERNELS = ("linear", "rbf", "poly")


def kernel_matrix(A, B, kernel: str, gamma: float, degree: int, coef0: float) -> np.ndarray:
    """K(a_i, b_j) for all pairs: linear a.b, poly (gamma a.b + coef0)^degree, rbf exp(-gamma |a - b|^2)."""
    if kernel == "linear":
        return A @ B.T
    if kernel == "poly":
        return (gamma * (A @ B.T) + coef0) ** degree
    squared = (A**2).sum(axis=1)[:, None] + (B**2).sum(axis=1)[None, :] - 2 * A @ B.T
    return np.exp(-gamma * np.maximum(squared, 0.0))


class BinarySMO:
    """SMO on one two-class problem, labels in {-1, +1}, with the kernel matrix K given (n x n)."""

    def __init__(self, K: np.ndarray, y: np.ndarray, C: float, tol: float, eps: float, max_passes: int, seed: int):
        self.K, self.y, self.C, self.tol, self.eps = K, y.astype(float), C, tol, eps
        self.n = len(y)
        self.alpha = np.zeros(self.n)
        self.b = 0.0
        self.errors = -self.y.copy()  # E_i = f(x_i) - y_i with every a_i = 0 and b = 0
        self.max_passes = max_passes
        self.rng = np.random.default_rng(seed)
        self.steps = 0

    def solve(self) -> "BinarySMO":
        """Platt's outer loop: sweep all samples, then only the non-bound ones (0 < a < C) until none changes,
        then all again; done when a full sweep changes nothing."""
        examine_all, passes = True, 0
        while passes < self.max_passes:
            candidates = range(self.n) if examine_all else np.flatnonzero((self.alpha > 0) & (self.alpha < self.C))
            changed = sum(self.examine(int(i)) for i in candidates)
            passes += 1
            if examine_all and changed == 0:
                break
            examine_all = changed == 0 if not examine_all else False
        self.converged = passes < self.max_passes
        return self

    def examine(self, i2: int) -> int:
        """Try to take a step with a_i2 as the second multiplier; 1 if some pair moved."""
        y2, alpha2, E2 = self.y[i2], self.alpha[i2], self.errors[i2]
        r2 = E2 * y2  # y f(x) - 1
        if not ((r2 < -self.tol and alpha2 < self.C) or (r2 > self.tol and alpha2 > 0)):
            return 0  # a_i2 satisfies the KKT conditions within tol
        non_bound = np.flatnonzero((self.alpha > 0) & (self.alpha < self.C))
        if len(non_bound) > 1:  # heuristic 1: the partner with the largest |E1 - E2|, i.e. the largest step
            errors = self.errors[non_bound]
            i1 = non_bound[np.argmin(errors)] if E2 > 0 else non_bound[np.argmax(errors)]
            if self.take_step(int(i1), i2):
                return 1
        # heuristic 2: any non-bound partner, then any partner at all, each from a random starting point
        for pool in (non_bound, np.arange(self.n)):
            if len(pool) == 0:
                continue
            for i1 in self._could_move(np.roll(pool, -int(self.rng.integers(len(pool)))), i2):
                if self.take_step(int(i1), i2):
                    return 1
        return 0

    def _could_move(self, pool: np.ndarray, i2: int) -> np.ndarray:
        """The partners in `pool` (order kept) with which take_step would make a real step: the same clipped
        step as take_step, for all of them at once, so the Python loop only visits promising ones."""
        y1, alpha1, E1 = self.y[pool], self.alpha[pool], self.errors[pool]
        y2, alpha2, E2, C = self.y[i2], self.alpha[i2], self.errors[i2], self.C
        same = y1 == y2
        L = np.where(same, np.maximum(0.0, alpha2 + alpha1 - C), np.maximum(0.0, alpha2 - alpha1))
        H = np.where(same, np.minimum(C, alpha2 + alpha1), np.minimum(C, C + alpha2 - alpha1))
        eta = self.K[pool, pool] + self.K[i2, i2] - 2 * self.K[pool, i2]
        with np.errstate(divide="ignore", invalid="ignore"):
            a2 = np.clip(alpha2 + y2 * (E1 - E2) / eta, L, H)
        big_enough = np.abs(a2 - alpha2) >= self.eps * (a2 + alpha2 + self.eps)
        return pool[(L < H) & (pool != i2) & ((eta <= 0) | big_enough)]  # eta <= 0: let take_step decide

    def take_step(self, i1: int, i2: int) -> bool:
        """Solve the dual for (a_i1, a_i2) analytically, the rest fixed. False when they cannot move."""
        if i1 == i2:
            return False
        alpha1, alpha2, y1, y2 = self.alpha[i1], self.alpha[i2], self.y[i1], self.y[i2]
        E1, E2, C = self.errors[i1], self.errors[i2], self.C
        s = y1 * y2
        # the segment of the box on which y1 a1 + y2 a2 stays constant
        L, H = (
            (max(0.0, alpha2 - alpha1), min(C, C + alpha2 - alpha1))
            if s < 0
            else (max(0.0, alpha2 + alpha1 - C), min(C, alpha2 + alpha1))
        )
        if L >= H:
            return False
        k11, k12, k22 = self.K[i1, i1], self.K[i1, i2], self.K[i2, i2]
        eta = k11 + k22 - 2 * k12  # the curvature of the dual along the segment
        if eta > 0:
            a2 = min(max(alpha2 + y2 * (E1 - E2) / eta, L), H)
        else:  # flat or (for a non-PSD kernel) concave: the best end of the segment
            a2 = self._best_end(i1, i2, L, H)
        if abs(a2 - alpha2) < self.eps * (a2 + alpha2 + self.eps):
            return False
        a1 = alpha1 + s * (alpha2 - a2)
        d1, d2 = y1 * (a1 - alpha1), y2 * (a2 - alpha2)
        # the threshold that makes the moved multiplier's KKT condition hold exactly
        b1 = E1 + d1 * k11 + d2 * k12 + self.b
        b2 = E2 + d1 * k12 + d2 * k22 + self.b
        if 0 < a1 < C:
            b = b1
        elif 0 < a2 < C:
            b = b2
        else:
            b = (b1 + b2) / 2
        self.errors += d1 * self.K[i1] + d2 * self.K[i2] - (b - self.b)  # every E_i, in one O(n) update
        self.alpha[i1], self.alpha[i2], self.b = a1, a2, b
        self.steps += 1
        return True

    def _best_end(self, i1: int, i2: int, L: float, H: float) -> float:
        """Platt's eta <= 0 case: evaluate the dual objective at both ends of the segment."""
        alpha1, alpha2, y1, y2 = self.alpha[i1], self.alpha[i2], self.y[i1], self.y[i2]
        f1 = y1 * (self.errors[i1] + self.b) - alpha1 * self.K[i1, i1] - (alpha2 * y1 * y2) * self.K[i1, i2]
        f2 = y2 * (self.errors[i2] + self.b) - (alpha1 * y1 * y2) * self.K[i1, i2] - alpha2 * self.K[i2, i2]
        s = y1 * y2
        ends = {}
        for a2 in (L, H):
            a1 = alpha1 + s * (alpha2 - a2)
            ends[a2] = (
                a1 * f1
                + a2 * f2
                + 0.5 * a1**2 * self.K[i1, i1]
                + 0.5 * a2**2 * self.K[i2, i2]
                + s * a1 * a2 * self.K[i1, i2]
            )
        return L if ends[L] < ends[H] - self.eps else H if ends[H] < ends[L] - self.eps else alpha2

    def dual_objective(self) -> float:
        ay = self.alpha * self.y
        return float(self.alpha.sum() - 0.5 * ay @ self.K @ ay)


class SVM(Classifier):
    """Kernel SVM trained by SMO; one-vs-rest for more than two classes.

    kernel: 'linear', 'rbf' or 'poly'; gamma: a positive number or 'scale' = 1 / (n_features * X.var()) as in
    scikit-learn; C: the box bound (smaller C = wider margin, more violations allowed); tol: KKT tolerance;
    eps: the smallest multiplier change that counts as a step; max_passes: a cap on Platt's outer sweeps.
    """

    def __init__(
        self,
        kernel: str = "rbf",
        C: float = 1.0,
        gamma="scale",
        degree: int = 3,
        coef0: float = 0.0,
        tol: float = 1e-3,
        eps: float = 1e-5,
        max_passes: int = 10_000,
        random_state: int | None = 0,
    ):
        self.kernel = kernel
        self.C = C
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.tol = tol
        self.eps = eps
        self.max_passes = max_passes
        self.random_state = random_state

    def _check_params(self, X):
        if self.kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {KERNELS}, got {self.kernel!r}")
        if self.C <= 0 or self.tol <= 0:
            raise ValueError(f"C and tol must be positive, got C={self.C}, tol={self.tol}")
        if self.gamma == "scale":
            variance = X.var()
            return 1.0 / (X.shape[1] * variance) if variance > 0 else 1.0
        if isinstance(self.gamma, str) or self.gamma <= 0:
            raise ValueError(f"gamma must be 'scale' or a positive number, got {self.gamma!r}")
        return float(self.gamma)

    def fit(self, X, y) -> "SVM":
        X, y = check_X_y(X, y)
        self.gamma_ = self._check_params(X)
        encoded = self._encode_labels(y)
        if len(self.classes_) < 2:
            raise ValueError(f"SVM needs at least 2 classes in y, got only {self.classes_.tolist()}")
        self.n_features_in_ = X.shape[1]
        K = self._kernel(X, X)
        # two classes: one machine, +1 = classes_[1] (scikit-learn's sign); more: one machine per class vs rest
        targets = [1] if len(self.classes_) == 2 else range(len(self.classes_))
        self.machines_ = []
        for c in targets:
            signs = np.where(encoded == c, 1, -1)
            solver = BinarySMO(K, signs, self.C, self.tol, self.eps, self.max_passes, seed=self.random_state)
            solver.solve()
            support = np.flatnonzero(solver.alpha > 1e-12)
            self.machines_.append(
                {
                    "support": support,
                    "support_vectors": X[support],
                    "dual_coef": solver.alpha[support] * signs[support],  # a_i y_i, scikit-learn's dual_coef_
                    "intercept": -solver.b,  # f(x) = sum a_i y_i K(x_i, x) + intercept
                    "dual_objective": solver.dual_objective(),
                    "steps": solver.steps,
                    "converged": solver.converged,
                }
            )
        return self

    def _kernel(self, A, B):
        return kernel_matrix(A, B, self.kernel, self.gamma_, self.degree, self.coef0)

    def decision_function(self, X) -> np.ndarray:
        """f(x) per machine: shape (n,) for two classes (positive = classes_[1]), else (n, n_classes)."""
        self._check_fitted("machines_")
        X = check_X(X, self.n_features_in_)
        scores = np.column_stack(
            [self._kernel(X, m["support_vectors"]) @ m["dual_coef"] + m["intercept"] for m in self.machines_]
        )
        return scores[:, 0] if len(self.machines_) == 1 else scores

    def predict(self, X) -> np.ndarray:
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]

    @property
    def support_(self) -> np.ndarray:
        """Indices of the training samples that are a support vector of any machine."""
        self._check_fitted("machines_")
        return np.unique(np.concatenate([m["support"] for m in self.machines_]))
