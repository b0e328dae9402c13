"""Day 2's MCMC experiments: run several chains, score them against an exact (or long reference) posterior,
and follow the Bayesian and the frequentist estimate of a rate as the sample grows."""

import time
from collections.abc import Callable

import numpy as np
from tqdm import tqdm

from src.core.mcmc import Chain, summarize
from src.core.probability import Beta, bernoulli_mle_interval, beta_binomial_posterior


def sample_chains(sampler: Callable[[np.ndarray, np.random.Generator], Chain], initials, rng, desc: str):
    """One chain per initial point, each with its own generator split from rng. Returns (samples (m, n, d),
    mean acceptance rate, seconds)."""
    started = time.perf_counter()
    runs = [
        sampler(x0, np.random.default_rng(seed))
        for x0, seed in zip(tqdm(initials, desc=desc), rng.spawn(len(initials)), strict=True)
    ]
    samples = np.stack([r.samples.reshape(len(r.samples), -1) for r in runs])
    return samples, float(np.mean([r.acceptance_rate for r in runs])), time.perf_counter() - started


def score(samples: np.ndarray, exact_mean, exact_var, reference_mcse=0.0) -> tuple[dict, dict]:
    """Diagnostics of (m, n, d) chains and their errors against the exact posterior moments, worst coordinate.
    mean_error_in_mcse: |error of the mean| / its Monte Carlo standard error (combined with the reference's own,
    when the "exact" moments come from a long reference run); about 1, below ~3, when the chains are right
    and the MCSE honest."""
    summary = summarize(samples)
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
    }
    return metrics, summary


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
