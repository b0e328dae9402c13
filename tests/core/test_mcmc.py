"""Samplers recover known posteriors within their Monte Carlo error; diagnostics match theory and flag failure."""

import numpy as np
import pytest

from src.core import mcmc
from src.core.probability import Beta, Normal, beta_binomial_posterior, normal_normal_posterior


def _ar1_chains(phi: float, m: int, n: int, seed: int = 0) -> np.ndarray:
    """AR(1) x_t = phi x_{t-1} + e_t: autocorrelation phi^t, so ESS = m n (1 - phi) / (1 + phi) exactly in the limit."""
    rng = np.random.default_rng(seed)
    e = rng.standard_normal((m, n))
    x = np.empty((m, n))
    x[:, 0] = e[:, 0] / np.sqrt(1 - phi**2)  # start in the stationary distribution
    for t in range(1, n):
        x[:, t] = phi * x[:, t - 1] + e[:, t]
    return x


def test_autocorrelation_equals_the_direct_sum_and_ar1_theory():
    x = _ar1_chains(0.7, 1, 20000)[0]
    rho = mcmc.autocorrelation(x, max_lag=5)
    c = x - x.mean()
    direct = [np.sum(c[: len(c) - t] * c[t:]) / np.sum(c * c) for t in range(6)]
    np.testing.assert_allclose(rho, direct, rtol=1e-10)
    np.testing.assert_allclose(rho, 0.7 ** np.arange(6), atol=0.03)


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.9])
def test_ess_matches_the_ar1_formula(phi):
    chains = _ar1_chains(phi, 4, 20000, seed=1)
    expected = chains.size * (1 - phi) / (1 + phi)
    assert mcmc.effective_sample_size(chains) == pytest.approx(expected, rel=0.15)


def test_rhat_is_one_for_mixed_chains_and_flags_a_stuck_sampler():
    assert mcmc.split_rhat(_ar1_chains(0.5, 4, 4000)) < 1.01

    # a sampler whose proposals are far too small never leaves its (dispersed) starting points
    def log_p(x):
        return -0.5 * x**2

    stuck = [
        mcmc.metropolis_hastings_chain(log_p, x0, 2000, proposal_scale=1e-3, rng=np.random.default_rng(i)).samples
        for i, x0 in enumerate([-3.0, -1.0, 1.0, 3.0])
    ]
    assert mcmc.split_rhat(stuck) > 1.5
    # one chain drifting (first half differs from its second half) is caught by the split
    drifting = np.concatenate([np.zeros(1000), np.full(1000, 5.0)]) + np.random.default_rng(2).standard_normal(2000)
    assert mcmc.split_rhat(np.stack([drifting] * 4)) > 1.5


def test_metropolis_hastings_recovers_a_beta_posterior_within_monte_carlo_error():
    exact = beta_binomial_posterior(Beta(2.0, 2.0), successes=12, trials=40)
    rng = np.random.default_rng(3)
    chains = np.array(
        [
            mcmc.metropolis_hastings_chain(exact.logpdf, x0, 5000, proposal_scale=0.15, burn_in=500, rng=rng).samples
            for x0 in (0.1, 0.4, 0.6, 0.9)
        ]
    )
    summary = mcmc.summarize(chains)
    assert summary["rhat"][0] < 1.01
    # 4.5 standard errors: fails by chance with probability ~1e-5, fails surely if the sampler is biased
    assert abs(summary["mean"][0] - exact.mean) < 4.5 * summary["mcse"][0]
    # the variance estimate's own standard error is about var * sqrt(2 / ESS) (Gaussian approximation)
    assert abs(summary["var"][0] - exact.var) < 4.5 * exact.var * np.sqrt(2 / summary["ess"][0])


def test_roadmap_call_and_hmc_recover_a_normal_posterior():
    from src.core.probability_whitebox import metropolis_hastings

    data = np.random.default_rng(4).normal(2.0, 1.0, 20)
    exact = normal_normal_posterior(Normal(0.0, 10.0), data, noise_var=1.0)

    def log_prob(mu):
        return exact.logpdf(mu)

    assert metropolis_hastings(log_prob, n_samples=1000).shape == (1000,)  # the roadmap's call, as written
    samples = metropolis_hastings(log_prob, n_samples=4000, seed=0, proposal_scale=0.5)
    assert samples.shape == (4000,)
    se = np.sqrt(exact.var / mcmc.effective_sample_size(samples))
    assert abs(samples.mean() - exact.mean) < 4.5 * se

    hmc = mcmc.hamiltonian_monte_carlo(
        log_prob,
        lambda mu: -(mu - exact.mean) / exact.var,
        0.0,
        2000,
        step_size=0.15,
        n_leapfrog=5,
        burn_in=100,
        rng=np.random.default_rng(5),
    )
    assert hmc.acceptance_rate > 0.9  # a Gaussian target: leapfrog's energy error is tiny
    se = np.sqrt(exact.var / mcmc.effective_sample_size(hmc.samples))
    assert abs(hmc.samples.mean() - exact.mean) < 4.5 * se
    assert hmc.samples.var() == pytest.approx(exact.var, rel=0.15)


def test_acceptance_rate_falls_as_the_proposal_grows():
    def log_p(x):
        return -0.5 * np.sum(x**2)

    rates = [
        mcmc.metropolis_hastings_chain(
            log_p, np.zeros(2), 3000, proposal_scale=s, rng=np.random.default_rng(0)
        ).acceptance_rate
        for s in (0.1, 1.0, 10.0)
    ]
    assert rates[0] > 0.9 > rates[1] > 0.2 > rates[2]


def test_bad_sampler_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="not finite at initial"):
        mcmc.metropolis_hastings(lambda p: Beta(2, 2).logpdf(p), initial=1.5)
    with pytest.raises(ValueError, match="proposal_scale must be > 0"):
        mcmc.metropolis_hastings(lambda x: -(x**2), proposal_scale=-1.0)
    with pytest.raises(ValueError, match="proposal_cov must be 2 x 2"):
        mcmc.metropolis_hastings_chain(lambda x: 0.0, np.zeros(2), 10, proposal_cov=np.eye(3))
    with pytest.raises(ValueError, match="constant"):
        mcmc.autocorrelation(np.ones(10))


def test_optimal_scale_follows_roberts_gelman_gilks():
    assert mcmc.optimal_proposal_scale(1) == pytest.approx(2.38)
    assert mcmc.optimal_proposal_scale(4) == pytest.approx(1.19)
    with pytest.raises(ValueError, match="dim"):
        mcmc.optimal_proposal_scale(0)


def test_starts_are_over_dispersed_by_the_asked_number_of_standard_deviations():
    center, cov = np.array([1.0, -2.0]), np.array([[4.0, 1.0], [1.0, 0.25]])
    starts = mcmc.overdispersed_starts(center, cov, 20000, np.random.default_rng(0), spread=3.0)
    assert starts.shape == (20000, 2)
    np.testing.assert_allclose(starts.mean(axis=0), center, atol=0.1)
    np.testing.assert_allclose(starts.std(axis=0), 3.0 * np.sqrt([4.0, 0.25]), rtol=0.02)
    np.testing.assert_allclose(mcmc.spread_over_unit_interval(4), [0.125, 0.375, 0.625, 0.875])


def test_mean_autocorrelation_averages_every_chain_and_coordinate():
    samples = np.stack([_ar1_chains(0.5, 3, 400, seed=s) for s in (1, 2)], axis=-1)  # 3 chains, 400 draws, 2-D
    expected = np.mean([mcmc.autocorrelation(samples[c, :, j], 5) for c in range(3) for j in range(2)], axis=0)
    np.testing.assert_allclose(mcmc.mean_autocorrelation(samples, 5), expected)
    assert mcmc.mean_autocorrelation(samples, 5).shape == (6,)
