"""Day 2's MCMC experiments: set a sampler up on a posterior, run several chains, score them against the exact
(or a long reference run's) posterior moments, and follow the Bayesian and the frequentist estimate of a rate as
the sample grows.

    exact, chains = beta_binomial_chains(212, 569, (1.0, 1.0), 4, 5000, 1000, 0.05, rng)
    metrics, summary = score(chains, exact.mean, exact.var)

    posterior = LogisticPosteriorSampler.at_map(X, y, prior_std=2.5, proposal_scale=None)
    starts = posterior.starts(4, rng, spread=3.0)
    chains = sample_chains(posterior.metropolis_hastings(5000, burn_in=1000), starts, rng, "MH")
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from src.core import mcmc
from src.core.probability import (
    BayesianLogisticRegression,
    Beta,
    bernoulli_mle_interval,
    beta_binomial_posterior,
    beta_logpdf,
    binomial_logpmf,
)

Sampler = Callable[[np.ndarray, np.random.Generator], mcmc.Chain]  # (start, generator) -> one chain


@dataclass
class SampledChains:
    samples: np.ndarray  # (m chains, n draws, d coordinates)
    acceptance_rate: float  # the mean over chains
    seconds: float  # all chains, wall clock


def sample_chains(sampler: Sampler, initials, rng: np.random.Generator, desc: str) -> SampledChains:
    """One chain per initial point, each with its own generator split from rng (independent streams)."""
    started = time.perf_counter()
    runs = [
        sampler(x0, np.random.default_rng(seed))
        for x0, seed in zip(tqdm(initials, desc=desc), rng.spawn(len(initials)), strict=True)
    ]
    samples = np.stack([r.samples.reshape(len(r.samples), -1) for r in runs])
    return SampledChains(samples, float(np.mean([r.acceptance_rate for r in runs])), time.perf_counter() - started)


def score(chains: SampledChains, exact_mean, exact_var, reference_mcse=0.0) -> tuple[dict, dict]:
    """Diagnostics of the chains and their errors against the exact posterior moments, worst coordinate, with the
    acceptance rate, seconds and ESS per second. Returns (metrics, summarize's per-coordinate summary).
    mean_error_in_mcse: |error of the mean| / its Monte Carlo standard error (combined with the reference's own,
    when the "exact" moments come from a long reference run); about 1, below ~3, when the chains are right
    and the MCSE honest."""
    summary = mcmc.summarize(chains.samples)
    standard_error = np.sqrt(summary["mcse"] ** 2 + np.asarray(reference_mcse) ** 2)
    exact_mean, exact_var = np.atleast_1d(exact_mean), np.atleast_1d(exact_var)
    mean_error = np.abs(summary["mean"] - exact_mean)
    metrics = {
        "ess_min": summary["ess"].min(),
        "rhat_max": summary["rhat"].max(),
        "posterior_mean_abs_error": mean_error.max(),
        "posterior_mean_error_in_sd": (mean_error / np.sqrt(exact_var)).max(),
        "posterior_var_rel_error": (np.abs(summary["var"] - exact_var) / exact_var).max(),
        "mean_error_in_mcse": (mean_error / standard_error).max(),
        "acceptance_rate": chains.acceptance_rate,
        "seconds": chains.seconds,
        "ess_per_second": summary["ess"].min() / chains.seconds,
    }
    return metrics, summary


def diagnostic_rows(target: str, sampler: str, names, summary, reference: str, ref_mean, ref_var, acceptance):
    """One row per coordinate: the chains' moments next to the reference's, ESS, R-hat (for a plot CSV)."""
    return [
        {
            "target": target,
            "sampler": sampler,
            "parameter": name.replace(" ", "_"),
            "reference": reference,
            "mean": summary["mean"][j],
            "reference_mean": np.atleast_1d(ref_mean)[j],
            "var": summary["var"][j],
            "reference_var": np.atleast_1d(ref_var)[j],
            "ess": summary["ess"][j],
            "rhat": summary["rhat"][j],
            "acceptance_rate": acceptance,
        }
        for j, name in enumerate(names)
    ]


# -- the two posteriors day 2 samples ------------------------------------------------------------------------
def beta_binomial_chains(
    successes: int,
    trials: int,
    prior: tuple[float, float],
    n_chains: int,
    n_samples: int,
    burn_in: int,
    proposal_scale: float,
    rng: np.random.Generator,
) -> tuple[Beta, SampledChains]:
    """Metropolis-Hastings on a rate under a Beta(a, b) prior and a binomial likelihood, started evenly over
    (0, 1). The sampler sees only the unnormalized prior x likelihood; the closed-form posterior it should find
    comes back beside the chains: (exact posterior, chains)."""
    a, b = prior
    exact = beta_binomial_posterior(Beta(a, b), successes, trials)

    def log_posterior(theta):
        return float(beta_logpdf(theta, a, b) + binomial_logpmf(successes, trials, theta))

    def sampler(x0, chain_rng):
        return mcmc.metropolis_hastings_chain(
            log_posterior, x0, n_samples, proposal_scale, burn_in=burn_in, rng=chain_rng
        )

    starts = mcmc.spread_over_unit_interval(n_chains)
    return exact, sample_chains(sampler, starts, rng, "MH beta-binomial")


@dataclass
class LogisticPosteriorSampler:
    """Bayesian logistic regression set up for MCMC at its mode: the MAP, the Laplace covariance there (the
    posterior's local shape), used as MH's proposal covariance and HMC's inverse mass, and MH's scale."""

    model: BayesianLogisticRegression
    w_map: np.ndarray
    covariance: np.ndarray
    proposal_scale: float

    @classmethod
    def at_map(cls, X, y, prior_std: float, proposal_scale: float | None) -> "LogisticPosteriorSampler":
        """proposal_scale None: the optimal random-walk scale 2.38 / sqrt(d) (see mcmc.optimal_proposal_scale)."""
        model = BayesianLogisticRegression(X, y, prior_std)
        w_map = model.map_estimate()
        scale = proposal_scale or mcmc.optimal_proposal_scale(len(w_map))
        return cls(model, w_map, model.laplace_covariance(w_map), scale)

    def starts(self, n_chains: int, rng: np.random.Generator, spread: float) -> np.ndarray:
        """Over-dispersed starts: the MAP plus `spread` Laplace standard deviations in random directions."""
        return mcmc.overdispersed_starts(self.w_map, self.covariance, n_chains, rng, spread)

    def metropolis_hastings(self, n_samples: int, burn_in: int) -> Sampler:
        def sampler(x0, rng):
            return mcmc.metropolis_hastings_chain(
                self.model.log_prob, x0, n_samples, self.proposal_scale, self.covariance, burn_in=burn_in, rng=rng
            )

        return sampler

    def hmc(self, n_samples: int, step_size: float, n_leapfrog: int, burn_in: int) -> Sampler:
        def sampler(x0, rng):
            return mcmc.hamiltonian_monte_carlo(
                self.model.log_prob,
                self.model.grad_log_prob,
                x0,
                n_samples,
                step_size,
                n_leapfrog,
                burn_in=burn_in,
                inverse_mass=self.covariance,
                rng=rng,
            )

        return sampler


# -- Bayesian vs frequentist -----------------------------------------------------------------------------------
def bayes_vs_frequentist_rows(labels: np.ndarray, sizes: list[int], prior: Beta, level: float):
    """For the first n labels (n in sizes): the Beta posterior's mean and credible interval, and the MLE with its
    Wald interval. Returns (rows, [(n, posterior)])."""
    if max(sizes) > len(labels):
        raise ValueError(f"sample size {max(sizes)} exceeds the {len(labels)} labels available.")
    rows, posteriors = [], []
    for n in sizes:
        k = int(labels[:n].sum())
        posterior = beta_binomial_posterior(prior, k, n)
        low, high = posterior.interval(level)
        mle, wald_low, wald_high = bernoulli_mle_interval(k, n, level)
        rows.append(
            {
                "n": n,
                "malignant": k,
                "posterior_mean": posterior.mean,
                "credible_low": low,
                "credible_high": high,
                "mle": mle,
                "wald_low": wald_low,
                "wald_high": wald_high,
            }
        )
        posteriors.append((n, posterior))
    return rows, posteriors
