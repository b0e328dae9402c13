"""Day 2's Bayesian figures: MCMC chains (trace, histogram against the exact or reference posterior,
autocorrelation) and the Bayesian-vs-frequentist comparison as the sample grows."""

import matplotlib.pyplot as plt
import numpy as np

from src.core.mcmc import autocorrelation


def chains(title: str, samples: np.ndarray, names: list[str], max_lag: int, exact_pdf=None, reference=None):
    """samples (m chains, n draws, d): one row per coordinate with its trace (one colour per chain), its
    histogram over all chains (with the exact density or a long reference run's histogram) and the
    autocorrelation of each chain up to max_lag."""
    m, n, d = samples.shape
    fig, axes = plt.subplots(d, 3, figsize=(14, 2.6 * d + 0.6), squeeze=False)
    for j, name in enumerate(names):
        ax_trace, ax_hist, ax_acf = axes[j]
        for c in range(m):
            ax_trace.plot(samples[c, :, j], lw=0.4, alpha=0.8)
            ax_acf.plot(autocorrelation(samples[c, :, j], max_lag), lw=1)
        ax_trace.set(ylabel=name, xlabel="draw" if j == d - 1 else None)
        ax_hist.hist(samples[..., j].ravel(), bins=60, density=True, alpha=0.6, label="MCMC, all chains")
        if exact_pdf is not None:
            grid = np.linspace(*np.percentile(samples[..., j], [0.05, 99.95]), 300)
            ax_hist.plot(grid, exact_pdf(grid), "k", lw=1.5, label="exact posterior")
        if reference is not None:
            ax_hist.hist(reference[:, j], bins=60, density=True, histtype="step", color="k", label="reference run")
        ax_hist.legend(fontsize=7)
        ax_acf.axhline(0, color="k", lw=0.5)
        ax_acf.set(ylim=(-0.2, 1.02), xlabel="lag" if j == d - 1 else None, ylabel="autocorrelation")
    axes[0, 0].set_title("trace (one colour per chain)")
    axes[0, 1].set_title("posterior histogram")
    axes[0, 2].set_title("autocorrelation per chain")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def bayes_vs_frequentist(rows: list[dict], level: float, prior: tuple[float, float], truth: float, posteriors):
    """Left: posterior mean with its credible interval and the MLE with its Wald confidence interval as n grows.
    Right: the posterior densities at a few n, narrowing around the full-data rate."""
    fig, (ax, ax_pdf) = plt.subplots(1, 2, figsize=(13, 4.5))
    n = np.array([r["n"] for r in rows])
    ax.fill_between(n, [r["credible_low"] for r in rows], [r["credible_high"] for r in rows], alpha=0.25)
    ax.plot(n, [r["posterior_mean"] for r in rows], "o-", label=f"posterior mean, {level:.0%} credible interval")
    ax.errorbar(
        n * 1.08,
        [r["mle"] for r in rows],
        yerr=[[r["mle"] - r["wald_low"] for r in rows], [r["wald_high"] - r["mle"] for r in rows]],
        fmt="s",
        color="C3",
        capsize=3,
        label=f"MLE k/n, {level:.0%} Wald confidence interval",
    )
    ax.axhline(truth, color="k", ls=":", label=f"rate in all {n.max()} patients")
    ax.set(xscale="log", ylim=(-0.02, 1.02), xlabel="patients seen (n, log)", ylabel="P(malignant)")
    ax.set_title(f"Bayesian (Beta{prior} prior) vs frequentist")
    ax.legend(fontsize=7)
    grid = np.linspace(0.001, 0.999, 500)
    for size, posterior in posteriors:
        ax_pdf.plot(grid, np.exp(posterior.logpdf(grid)), label=f"n = {size}")
    ax_pdf.axvline(truth, color="k", ls=":")
    ax_pdf.set(xlabel="P(malignant)", ylabel="posterior density", title="The posterior narrows as data arrive")
    ax_pdf.legend(fontsize=7)
    return fig
