"""Naive Bayes from scratch: Gaussian (continuous features) and multinomial (counts), as scikit-learn computes them.

    NaiveBayes("gaussian").fit(X, y).predict_proba(X_test)
    NaiveBayes("multinomial", alpha=1.0).fit(counts, y)

Bayes' rule with the "naive" assumption that features are independent given the class:
    log P(c | x) = log P(c) + sum_j log P(x_j | c) - log P(x)
where log P(x) = logsumexp_c of the rest (so the probabilities sum to 1, computed without overflow).
- Gaussian: P(x_j | c) = N(x_j; mu_cj, var_cj + eps), eps = var_smoothing * (largest feature variance), which
  keeps a feature that is constant within a class from dividing by zero.
- Multinomial: P(x | c) is proportional to prod_j theta_cj^x_j, theta_cj = (N_cj + alpha) / (N_c + alpha n),
  N_cj the total count of feature j in class c; alpha = 1 is Laplace smoothing, 0 < alpha < 1 Lidstone.
"""

import numpy as np
from scipy.special import logsumexp

from src.ml.classical.base import Classifier, check_X, check_X_y

DISTRIBUTIONS = ("gaussian", "multinomial")


class NaiveBayes(Classifier):
    """distribution: 'gaussian' (uses var_smoothing) or 'multinomial' (uses alpha; X must be >= 0).

    With a single class in y it predicts that class with probability 1 (scikit-learn does the same)."""

    def __init__(self, distribution: str = "gaussian", var_smoothing: float = 1e-9, alpha: float = 1.0):
        self.distribution = distribution
        self.var_smoothing = var_smoothing
        self.alpha = alpha

    def fit(self, X, y) -> "NaiveBayes":
        X, y = check_X_y(X, y)
        if self.distribution not in DISTRIBUTIONS:
            raise ValueError(f"distribution must be one of {DISTRIBUTIONS}, got {self.distribution!r}")
        encoded = self._encode_labels(y)
        self.n_features_in_ = X.shape[1]
        one_hot = np.eye(len(self.classes_))[encoded]  # (n, k)
        self.class_count_ = one_hot.sum(axis=0)
        self.class_log_prior_ = np.log(self.class_count_ / self.class_count_.sum())
        if self.distribution == "gaussian":
            self._fit_gaussian(X, encoded)
        else:
            self._fit_multinomial(X, one_hot)
        return self

    def _fit_gaussian(self, X, encoded):
        if self.var_smoothing < 0:
            raise ValueError(f"var_smoothing must be >= 0, got {self.var_smoothing}")
        self.epsilon_ = self.var_smoothing * np.var(X, axis=0).max()
        self.theta_ = np.array([X[encoded == c].mean(axis=0) for c in range(len(self.classes_))])
        self.var_ = np.array([X[encoded == c].var(axis=0) for c in range(len(self.classes_))]) + self.epsilon_
        if (self.var_ == 0).any():
            raise ValueError(
                "a feature has zero variance within a class and var_smoothing adds nothing (every feature is "
                "constant, or var_smoothing=0): drop constant features or use var_smoothing > 0"
            )

    def _fit_multinomial(self, X, one_hot):
        if (X < 0).any():
            raise ValueError("multinomial naive Bayes needs non-negative counts in X; use distribution='gaussian'")
        if self.alpha < 0:
            raise ValueError(f"alpha must be >= 0 (1 = Laplace, in (0, 1) = Lidstone), got {self.alpha}")
        self.feature_count_ = one_hot.T @ X  # N_cj
        smoothed = self.feature_count_ + self.alpha
        self.feature_log_prob_ = np.log(smoothed) - np.log(smoothed.sum(axis=1, keepdims=True))

    def joint_log_likelihood(self, X) -> np.ndarray:
        """log P(c) + log P(x | c) for every sample and class: (n, k)."""
        self._check_fitted("class_log_prior_")
        X = check_X(X, self.n_features_in_)
        if self.distribution == "multinomial":
            return X @ self.feature_log_prob_.T + self.class_log_prior_
        log_normaliser = -0.5 * np.log(2 * np.pi * self.var_).sum(axis=1)  # (k,)
        squared = ((X[:, None, :] - self.theta_[None]) ** 2 / self.var_[None]).sum(axis=2)  # (n, k)
        return self.class_log_prior_ + log_normaliser - 0.5 * squared

    def predict_log_proba(self, X) -> np.ndarray:
        jll = self.joint_log_likelihood(X)
        return jll - logsumexp(jll, axis=1, keepdims=True)

    def predict_proba(self, X) -> np.ndarray:
        return np.exp(self.predict_log_proba(X))

    def predict(self, X) -> np.ndarray:
        scores = self.joint_log_likelihood(X)
        return self.classes_[np.argmax(scores, axis=1)]
