"""Day 2's MCMC set-ups find their posteriors, and the scoring says so honestly."""

import numpy as np
import pytest

from src.core import mcmc
from src.core.experiments import posterior_sampling as sampling
from src.core.probability import Beta, beta_binomial_posterior


def test_beta_binomial_chains_recover_the_closed_form_posterior():
    exact, chains = sampling.beta_binomial_chains(12, 40, (2.0, 2.0), 4, 3000, 300, 0.15, np.random.default_rng(0))
    assert exact == beta_binomial_posterior(Beta(2.0, 2.0), 12, 40)
    assert chains.samples.shape == (4, 3000, 1) and 0.2 < chains.acceptance_rate < 0.9 and chains.seconds > 0
    metrics, summary = sampling.score(chains, exact.mean, exact.var)
    assert metrics["rhat_max"] < 1.01
    assert metrics["mean_error_in_mcse"] < 4.5  # ~1 when right; fails by chance with probability ~1e-5
    assert metrics["ess_per_second"] == pytest.approx(summary["ess"].min() / chains.seconds)


def test_sample_chains_gives_each_chain_its_own_reproducible_stream():
    def sampler(x0, rng):
        return mcmc.Chain(x0 + rng.standard_normal(5), 1.0, np.zeros(5))

    first = sampling.sample_chains(sampler, [0.0, 0.0], np.random.default_rng(7), "test")
    again = sampling.sample_chains(sampler, [0.0, 0.0], np.random.default_rng(7), "test")
    np.testing.assert_array_equal(first.samples, again.samples)
    assert not np.allclose(first.samples[0], first.samples[1])  # independent streams, not one stream twice


@pytest.fixture(scope="module")
def logistic_data():
    rng = np.random.default_rng(1)
    X = np.column_stack([np.ones(200), rng.standard_normal((200, 2))])
    y = (X @ [0.5, 1.0, -1.5] + rng.logistic(size=200) > 0).astype(float)
    return X, y


def test_logistic_set_up_is_map_laplace_and_the_optimal_scale(logistic_data):
    X, y = logistic_data
    posterior = sampling.LogisticPosteriorSampler.at_map(X, y, prior_std=2.5, proposal_scale=None)
    np.testing.assert_allclose(posterior.model.grad_log_prob(posterior.w_map), 0.0, atol=1e-4)
    np.testing.assert_allclose(posterior.covariance, posterior.model.laplace_covariance(posterior.w_map))
    assert posterior.proposal_scale == pytest.approx(2.38 / np.sqrt(3))
    assert sampling.LogisticPosteriorSampler.at_map(X, y, 2.5, proposal_scale=0.5).proposal_scale == 0.5
    starts = posterior.starts(4, np.random.default_rng(0), spread=3.0)
    assert starts.shape == (4, 3) and np.all(np.abs(starts - posterior.w_map) > 0)


def test_mh_and_hmc_agree_on_the_logistic_posterior(logistic_data):
    X, y = logistic_data
    posterior = sampling.LogisticPosteriorSampler.at_map(X, y, prior_std=2.5, proposal_scale=None)
    rng = np.random.default_rng(2)
    starts = posterior.starts(4, rng, spread=3.0)
    mh = sampling.sample_chains(posterior.metropolis_hastings(2000, burn_in=500), starts, rng, "MH")
    hmc = sampling.sample_chains(posterior.hmc(500, 0.2, 8, burn_in=100), starts, rng, "HMC")
    ref = mcmc.summarize(mh.samples)
    metrics, _ = sampling.score(hmc, ref["mean"], ref["var"], ref["mcse"])
    assert metrics["rhat_max"] < 1.05 and hmc.acceptance_rate > 0.8
    assert metrics["mean_error_in_mcse"] < 4.5 and metrics["posterior_var_rel_error"] < 0.3
    summary = mcmc.summarize(hmc.samples)
    rows = sampling.diagnostic_rows("logistic", "hmc", ["a", "b c", "d"], summary, "mh", ref["mean"], ref["var"], 0.9)
    assert [r["parameter"] for r in rows] == ["a", "b_c", "d"] and rows[1]["reference_mean"] == ref["mean"][1]
