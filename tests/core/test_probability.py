"""src.core.probability held to scipy.stats and to the closed-form posteriors' textbook identities."""

import numpy as np
import pytest
from scipy import optimize, stats

from src.core import probability as prob

X = np.linspace(0.01, 0.99, 7)


def test_log_densities_equal_scipy():
    np.testing.assert_allclose(prob.normal_logpdf(X, 0.3, 2.0), stats.norm.logpdf(X, 0.3, 2.0), rtol=1e-12)
    np.testing.assert_allclose(prob.beta_logpdf(X, 2.5, 0.7), stats.beta.logpdf(X, 2.5, 0.7), rtol=1e-12)
    assert prob.beta_logpdf(1.2, 2.0, 2.0) == -np.inf and prob.beta_logpdf(0.0, 2.0, 2.0) == -np.inf
    k = np.arange(0, 11)
    np.testing.assert_allclose(prob.binomial_logpmf(k, 10, 0.3), stats.binom.logpmf(k, 10, 0.3), rtol=1e-12)
    assert prob.normal_quantile(0.975) == pytest.approx(stats.norm.ppf(0.975), rel=1e-12)


def test_beta_moments_and_interval_equal_scipy():
    d = prob.Beta(3.0, 7.5)
    assert d.mean == pytest.approx(stats.beta.mean(3.0, 7.5)) and d.var == pytest.approx(stats.beta.var(3.0, 7.5))
    np.testing.assert_allclose(d.interval(0.9), stats.beta.interval(0.9, 3.0, 7.5), rtol=1e-10)
    np.testing.assert_allclose(prob.Normal(1.0, 4.0).interval(0.95), stats.norm.interval(0.95, 1.0, 2.0), rtol=1e-10)


def test_beta_binomial_posterior_is_prior_times_likelihood_normalized():
    post = prob.beta_binomial_posterior(prob.Beta(2.0, 3.0), successes=7, trials=10)
    assert (post.a, post.b) == (9.0, 6.0)
    # Bayes' theorem on a grid: prior * likelihood, normalized, must equal the closed form
    grid = np.linspace(1e-4, 1 - 1e-4, 20001)
    unnormalized = np.exp(prob.beta_logpdf(grid, 2.0, 3.0) + prob.binomial_logpmf(7, 10, grid))
    numeric = unnormalized / np.trapezoid(unnormalized, grid)
    np.testing.assert_allclose(numeric, np.exp(post.logpdf(grid)), atol=1e-6)


def test_normal_normal_posterior_equals_grid_bayes():
    rng = np.random.default_rng(0)
    data = rng.normal(1.5, 2.0, size=25)
    post = prob.normal_normal_posterior(prob.Normal(0.0, 1.0), data, noise_var=4.0)
    grid = np.linspace(-3, 5, 40001)
    log_post = prob.normal_logpdf(grid, 0.0, 1.0) + prob.normal_logpdf(data[:, None], grid, 2.0).sum(axis=0)
    weights = np.exp(log_post - log_post.max())
    weights /= weights.sum()
    assert post.mean == pytest.approx(np.sum(weights * grid), abs=1e-8)
    assert post.var == pytest.approx(np.sum(weights * (grid - post.mean) ** 2), rel=1e-6)


def test_mle_interval_is_wald_and_degenerates_at_the_edges():
    p, lo, hi = prob.bernoulli_mle_interval(30, 100, 0.95)
    half = stats.norm.ppf(0.975) * np.sqrt(0.3 * 0.7 / 100)
    assert (p, lo, hi) == pytest.approx((0.3, 0.3 - half, 0.3 + half))
    assert prob.bernoulli_mle_interval(0, 3) == (0.0, 0.0, 0.0)  # zero width from three trials


def test_logistic_posterior_gradient_and_hessian_match_finite_differences_and_sklearn():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    X = np.column_stack([np.ones(80), rng.standard_normal((80, 2))])
    y = (X @ [0.5, 1.0, -2.0] + rng.logistic(size=80) > 0).astype(float)
    model = prob.BayesianLogisticRegression(X, y, prior_std=2.0)
    w = np.array([0.1, -0.3, 0.7])
    np.testing.assert_allclose(model.grad_log_prob(w), optimize.approx_fprime(w, model.log_prob, 1e-7), rtol=1e-5)
    hess = prob.logistic_log_likelihood_hessian(w, X)
    numeric = optimize.approx_fprime(w, lambda v: prob.logistic_log_likelihood_grad(v, X, y), 1e-7)
    np.testing.assert_allclose(hess, numeric, rtol=1e-5, atol=1e-6)
    # the MAP under a Normal(0, s^2) prior is L2-regularized logistic regression with C = s^2
    w_map = model.map_estimate()
    np.testing.assert_allclose(model.grad_log_prob(w_map), 0.0, atol=1e-4)  # a stationary point
    ref = LogisticRegression(C=4.0, fit_intercept=False, tol=1e-10, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(w_map, ref.coef_[0], atol=1e-4)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="successes <= trials"):
        prob.beta_binomial_posterior(prob.Beta(1, 1), 5, 3)
    with pytest.raises(ValueError, match="Beta's a must be a positive"):
        prob.Beta(0.0, 1.0)
    with pytest.raises(ValueError, match="level must lie in"):
        prob.Beta(1, 1).interval(95)
    with pytest.raises(ValueError, match="0/1 labels"):
        prob.BayesianLogisticRegression(np.ones((3, 1)), np.array([0, 1, 2]))
