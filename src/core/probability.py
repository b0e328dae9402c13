"""Probability from scratch: log-densities, conjugate posteriors in closed form, the logistic likelihood, and the
frequentist estimates the Bayesian answers are compared with.

Bayes' theorem: p(theta | data) = p(data | theta) p(theta) / p(data). For a conjugate prior the posterior has the
prior's form with updated parameters, so it is known exactly; that makes it the yardstick for MCMC.

    Beta(a, b) prior, k successes in n Bernoulli trials      -> Beta(a + k, b + n - k)
    Normal(mu0, tau0^2) prior on a mean, n points of known
    noise variance sigma^2, sample mean x_bar                -> Normal(mu_n, tau_n^2),
                                                                1/tau_n^2 = 1/tau0^2 + n/sigma^2,
                                                                mu_n = tau_n^2 (mu0/tau0^2 + n x_bar/sigma^2)

Log-densities are held equal to scipy.stats in tests/core/test_probability.py. Quantiles (for credible intervals)
use scipy.special's inverse incomplete beta and inverse error function: the special functions are not the lesson.
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy import special


def _check_positive(name: str, value) -> float:
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}.")
    return float(value)


def _check_level(level: float) -> float:
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), e.g. 0.95 for a 95% interval; got {level!r}.")
    return level


def normal_logpdf(x, mean=0.0, std=1.0):
    """log N(x | mean, std^2) = -(x - mean)^2 / (2 std^2) - log(std) - log(2 pi) / 2."""
    std = _check_positive("std", std) if np.ndim(std) == 0 else np.asarray(std, dtype=float)
    z = (np.asarray(x, dtype=float) - mean) / std
    return -0.5 * z * z - np.log(std) - 0.5 * math.log(2 * math.pi)


def beta_logpdf(x, a: float, b: float):
    """log Beta(x | a, b) = (a-1) log x + (b-1) log(1-x) - log B(a, b) on 0 < x < 1, -inf outside."""
    a, b = _check_positive("a", a), _check_positive("b", b)
    x = np.asarray(x, dtype=float)
    inside = (x > 0) & (x < 1)
    safe = np.where(inside, x, 0.5)
    log_norm = special.gammaln(a) + special.gammaln(b) - special.gammaln(a + b)
    value = (a - 1) * np.log(safe) + (b - 1) * np.log1p(-safe) - log_norm
    return np.where(inside, value, -np.inf)


def binomial_logpmf(k, n, p):
    """log P(k successes in n trials) = log C(n, k) + k log p + (n - k) log(1 - p)."""
    k, n, p = np.asarray(k, dtype=float), np.asarray(n, dtype=float), np.asarray(p, dtype=float)
    log_choose = special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)
    return log_choose + special.xlogy(k, p) + special.xlog1py(n - k, -p)


def normal_quantile(q: float) -> float:
    """The standard normal quantile z_q (z_0.975 = 1.96): sqrt(2) erfinv(2q - 1)."""
    return float(math.sqrt(2) * special.erfinv(2 * q - 1))


@dataclass(frozen=True)
class Beta:
    a: float
    b: float

    def __post_init__(self):
        _check_positive("Beta's a", self.a)
        _check_positive("Beta's b", self.b)

    @property
    def mean(self) -> float:
        return self.a / (self.a + self.b)

    @property
    def var(self) -> float:
        s = self.a + self.b
        return self.a * self.b / (s * s * (s + 1))

    def logpdf(self, x):
        return beta_logpdf(x, self.a, self.b)

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        """The central credible interval: P(lo < theta < hi) = level."""
        tail = (1 - _check_level(level)) / 2
        return float(special.betaincinv(self.a, self.b, tail)), float(special.betaincinv(self.a, self.b, 1 - tail))


@dataclass(frozen=True)
class Normal:
    mean: float
    var: float

    def __post_init__(self):
        _check_positive("Normal's var", self.var)

    def logpdf(self, x):
        return normal_logpdf(x, self.mean, math.sqrt(self.var))

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        half = normal_quantile(1 - (1 - _check_level(level)) / 2) * math.sqrt(self.var)
        return self.mean - half, self.mean + half


def beta_binomial_posterior(prior: Beta, successes: int, trials: int) -> Beta:
    """Beta(a, b) prior and k successes in n trials -> Beta(a + k, b + n - k)."""
    if not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials, got successes={successes}, trials={trials}.")
    return Beta(prior.a + successes, prior.b + trials - successes)


def normal_normal_posterior(prior: Normal, data, noise_var: float) -> Normal:
    """Posterior of the mean of Normal(mean, noise_var) data under a Normal prior (see the module docstring):
    precisions add, and the posterior mean is the precision-weighted average of prior mean and sample mean."""
    data = np.asarray(data, dtype=float).ravel()
    noise_var = _check_positive("noise_var", noise_var)
    precision = 1 / prior.var + len(data) / noise_var
    var = 1 / precision
    return Normal(var * (prior.mean / prior.var + data.sum() / noise_var), var)


def bernoulli_mle_interval(successes: int, trials: int, level: float = 0.95) -> tuple[float, float, float]:
    """The frequentist answer: maximum-likelihood p_hat = k / n and its Wald confidence interval
    p_hat +- z sqrt(p_hat (1 - p_hat) / n), clipped to [0, 1]. At k = 0 or k = n its width is 0: the
    interval claims certainty from a handful of trials, where a Bayesian posterior stays honest."""
    if trials < 1 or not 0 <= successes <= trials:
        raise ValueError(f"need trials >= 1 and 0 <= successes <= trials, got {successes}/{trials}.")
    p_hat = successes / trials
    half = normal_quantile(1 - (1 - _check_level(level)) / 2) * math.sqrt(p_hat * (1 - p_hat) / trials)
    return p_hat, max(0.0, p_hat - half), min(1.0, p_hat + half)


# -- logistic regression's likelihood: shared by the optimizer benchmark and the Bayesian posterior ---------
def logistic_log_likelihood(w: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    """sum_i [y_i log s(x_i.w) + (1 - y_i) log(1 - s(x_i.w))] with s the sigmoid, y in {0, 1}.
    Written as sum_i [y_i z_i - log(1 + e^{z_i})], z = X w, with logaddexp so large |z| cannot overflow."""
    z = X @ w
    return float(np.sum(y * z - np.logaddexp(0.0, z)))


def logistic_log_likelihood_grad(w: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d/dw = X^T (y - s(X w))."""
    return X.T @ (y - special.expit(X @ w))


def logistic_log_likelihood_hessian(w: np.ndarray, X: np.ndarray) -> np.ndarray:
    """d^2/dw^2 = -X^T diag(s (1 - s)) X: negative definite, so the log-likelihood is concave."""
    s = special.expit(X @ w)
    return -(X.T * (s * (1 - s))) @ X


@dataclass
class BayesianLogisticRegression:
    """Posterior of logistic-regression weights under independent Normal(0, prior_std^2) priors:
    log p(w | X, y) = log-likelihood(w) + sum_j log N(w_j | 0, prior_std^2) + const."""

    X: np.ndarray
    y: np.ndarray
    prior_std: float = 2.5

    def __post_init__(self):
        _check_positive("prior_std", self.prior_std)
        if self.X.ndim != 2 or len(self.X) != len(self.y):
            raise ValueError(f"X must be (n, d) with one label per row; got X {self.X.shape}, y {self.y.shape}.")
        if not np.isin(self.y, (0, 1)).all():
            raise ValueError("y must hold 0/1 labels.")

    def log_prob(self, w) -> float:
        w = np.asarray(w, dtype=float)
        return logistic_log_likelihood(w, self.X, self.y) + float(np.sum(normal_logpdf(w, 0.0, self.prior_std)))

    def grad_log_prob(self, w) -> np.ndarray:
        return logistic_log_likelihood_grad(w, self.X, self.y) - w / self.prior_std**2

    def map_estimate(self) -> np.ndarray:
        """The posterior mode (MAP), by BFGS on -log p from w = 0 with the exact gradient. The log posterior is
        strictly concave (a concave log-likelihood plus a Gaussian prior), so this mode is the only one."""
        from scipy import optimize

        start = np.zeros(self.X.shape[1])
        return optimize.minimize(lambda w: -self.log_prob(w), start, jac=lambda w: -self.grad_log_prob(w)).x

    def laplace_covariance(self, w_map: np.ndarray) -> np.ndarray:
        """The Laplace approximation's covariance, the inverse of -Hessian at the mode: a Gaussian that has the
        posterior's local shape, the natural proposal covariance for random-walk Metropolis."""
        precision = -logistic_log_likelihood_hessian(w_map, self.X) + np.eye(len(w_map)) / self.prior_std**2
        return np.linalg.inv(precision)
