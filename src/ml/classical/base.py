"""What every classical model shares: input checks with clear errors, and the scikit-learn-like interface
(`get_params`, `set_params`, `score`) so our models drop into the same loops, and even `sklearn.base.clone`."""

import inspect

import numpy as np

from src.core.checks import require_finite


class NotFittedError(ValueError, AttributeError):
    """A model was asked to predict before `fit` (same bases as scikit-learn's, so either except works)."""


def check_X(X, n_features: int | None = None, name: str = "X") -> np.ndarray:
    """X as a 2-D float array of finite numbers, or a ValueError that says what is wrong and where."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features), got shape {X.shape}; reshape a single "
            "sample with X.reshape(1, -1) or a single feature with X.reshape(-1, 1)"
        )
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {X.shape}): need at least one sample and one feature")
    require_finite(X, name, "impute or drop them first (e.g. sklearn.impute.SimpleImputer)")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"{name} has {X.shape[1]} features but the model was fitted on {n_features}")
    return X


def check_X_y(X, y) -> tuple[np.ndarray, np.ndarray]:
    """Checked X and a 1-D label vector of the same length."""
    X = check_X(X)
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (one label per sample), got shape {y.shape}; use y.ravel()")
    if len(y) != len(X):
        raise ValueError(f"X and y have different lengths: {len(X)} samples but {len(y)} labels")
    return X, y


class Classifier:
    """scikit-learn's estimator protocol, by convention: every __init__ argument is stored under its own name."""

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [p.name for p in signature.parameters.values() if p.name != "self" and p.kind != p.VAR_KEYWORD]

    def get_params(self, deep: bool = True) -> dict:
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params) -> "Classifier":
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"{type(self).__name__} has no parameter {name!r}; valid: {valid}")
            setattr(self, name, value)
        return self

    def score(self, X, y) -> float:
        """Accuracy: the fraction of samples predicted right."""
        return float(np.mean(self.predict(X) == np.asarray(y)))

    def _check_fitted(self, attribute: str = "classes_"):
        if not hasattr(self, attribute):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit(X, y) first")

    def _encode_labels(self, y: np.ndarray) -> np.ndarray:
        """Remember the sorted distinct labels in classes_ and return y as indices 0..k-1 into them."""
        self.classes_, encoded = np.unique(y, return_inverse=True)
        return encoded

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"
