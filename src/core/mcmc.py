"""Markov chain Monte Carlo from scratch: random-walk Metropolis-Hastings, Hamiltonian Monte Carlo, and the
diagnostics that say whether the samples can be trusted.

    samples = metropolis_hastings(log_prob, n_samples=1000)          # 1-D target, start at 0
    chain = metropolis_hastings_chain(log_prob, initial=np.zeros(3), n_samples=5000, proposal_scale=0.5, rng=rng)
    chain.samples, chain.acceptance_rate

Metropolis-Hastings: from x propose x' = x + scale * L z (z ~ N(0, I), L L^T the proposal covariance) and accept
with probability min(1, p(x') / p(x)); the symmetric proposal cancels from the Hastings ratio. The chain's
stationary distribution is p, known only up to a constant: exactly the situation of a Bayesian posterior.
Too small a scale: nearly every step accepted but tiny (high autocorrelation). Too large: nearly all rejected.
For a d-dimensional Gaussian-like target the best scale is about 2.38 / sqrt(d) times the target's covariance
(Roberts, Gelman & Gilks 1997), accepting ~23% to ~44% (d = 1) of proposals.

Hamiltonian Monte Carlo uses the gradient: it simulates a particle on the surface -log p with a random momentum
(leapfrog steps), so one proposal travels far along the target and is still accepted with high probability.

Diagnostics (Gelman et al., Bayesian Data Analysis 3rd ed., ch. 11; Vehtari et al. 2021):
- autocorrelation rho_t of a chain at lag t;
- effective sample size ESS = m n / (1 + 2 sum_t rho_t), the number of independent draws worth as much as the
  m chains of n correlated draws (Geyer's initial monotone sequence truncates the noisy sum);
- split R-hat: each chain split in two halves, sqrt(pooled variance / within-chain variance); near 1 when every
  half explores the same distribution, above ~1.01 when chains disagree (not converged or stuck).
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class Chain:
    samples: np.ndarray  # (n_samples, dim), or (n_samples,) for a 1-D target
    acceptance_rate: float
    log_probs: np.ndarray  # log p at each kept sample


def _start(log_prob: Callable, initial) -> tuple[np.ndarray, bool, Callable]:
    """(x as a 1-D float vector, was the target scalar?, log p taking that vector)."""
    scalar = np.ndim(initial) == 0
    x = np.atleast_1d(np.array(initial, dtype=float))
    if x.ndim != 1:
        raise ValueError(f"initial must be a number or a 1-D vector, got shape {np.shape(initial)}.")

    def log_p(v):
        return float(log_prob(float(v[0]) if scalar else v))

    if not np.isfinite(log_p(x)):
        raise ValueError(f"log_prob(initial) is not finite at initial={initial!r}: start inside the support.")
    return x, scalar, log_p


def _check_counts(n_samples: int, burn_in: int, thin: int = 1):
    if n_samples < 1 or burn_in < 0 or thin < 1:
        raise ValueError(f"need n_samples >= 1, burn_in >= 0, thin >= 1; got {n_samples}, {burn_in}, {thin}.")


def metropolis_hastings_chain(
    log_prob: Callable,
    initial,
    n_samples: int,
    proposal_scale: float = 1.0,
    proposal_cov: np.ndarray | None = None,
    burn_in: int = 0,
    thin: int = 1,
    rng: np.random.Generator | None = None,
) -> Chain:
    """Random-walk Metropolis-Hastings with Gaussian proposals N(x, proposal_scale^2 * proposal_cov).

    log_prob(x) is log p(x) up to a constant (-inf outside the support). Runs burn_in + n_samples * thin steps
    and keeps every thin-th state after the burn-in."""
    _check_counts(n_samples, burn_in, thin)
    if not proposal_scale > 0:
        raise ValueError(f"proposal_scale must be > 0, got {proposal_scale!r}.")
    rng = rng or np.random.default_rng()
    x, scalar, log_p = _start(log_prob, initial)
    dim = len(x)
    L = np.eye(dim) if proposal_cov is None else np.linalg.cholesky(np.atleast_2d(proposal_cov))
    if L.shape != (dim, dim):
        raise ValueError(f"proposal_cov must be {dim} x {dim} for a {dim}-dimensional target, got {L.shape}.")
    step_matrix = proposal_scale * L
    current = log_p(x)
    samples, log_probs, accepted = np.empty((n_samples, dim)), np.empty(n_samples), 0
    n_total = burn_in + n_samples * thin
    noise = rng.standard_normal((n_total, dim)) @ step_matrix.T  # all proposals' steps at once: fewer calls
    log_u = np.log(rng.random(n_total))
    for i in range(n_total):
        proposal = x + noise[i]
        candidate = log_p(proposal)
        if log_u[i] < candidate - current:  # accept with probability min(1, p(x') / p(x))
            x, current = proposal, candidate
            accepted += i >= burn_in
        kept = i - burn_in
        if kept >= 0 and kept % thin == 0:
            samples[kept // thin], log_probs[kept // thin] = x, current
    return Chain(samples[:, 0] if scalar else samples, accepted / (n_samples * thin), log_probs)


def metropolis_hastings(
    log_prob_func: Callable,
    n_samples: int = 1000,
    initial=0.0,
    proposal_scale: float = 1.0,
    burn_in: int = 500,
    thin: int = 1,
    seed: int | None = None,
) -> np.ndarray:
    """The roadmap's one-call form: the samples of one Metropolis-Hastings chain (see metropolis_hastings_chain).
    A scalar `initial` means a 1-D target and returns shape (n_samples,); a vector returns (n_samples, dim)."""
    rng = np.random.default_rng(seed)
    chain = metropolis_hastings_chain(
        log_prob_func, initial, n_samples, proposal_scale=proposal_scale, burn_in=burn_in, thin=thin, rng=rng
    )
    return chain.samples


def hamiltonian_monte_carlo(
    log_prob: Callable,
    grad_log_prob: Callable,
    initial,
    n_samples: int,
    step_size: float = 0.1,
    n_leapfrog: int = 10,
    burn_in: int = 0,
    inverse_mass: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
) -> Chain:
    """HMC: momentum r ~ N(0, M), H(x, r) = -log p(x) + r^T M^-1 r / 2, n_leapfrog leapfrog steps

        r <- r + (eps/2) grad log p(x);  x <- x + eps M^-1 r;  r <- r + (eps/2) grad log p(x)

    then accept with probability min(1, exp(H_old - H_new)) (leapfrog is volume-preserving and reversible, so
    only its energy error needs correcting). inverse_mass = an estimate of the target's covariance (default I)
    makes the target look isotropic to the sampler: step_size is then in units of posterior standard deviations,
    and a trajectory length step_size * n_leapfrog near pi/2 travels about as far as one can usefully go."""
    _check_counts(n_samples, burn_in)
    if not (step_size > 0 and n_leapfrog >= 1):
        raise ValueError(f"need step_size > 0 and n_leapfrog >= 1, got {step_size!r}, {n_leapfrog!r}.")
    rng = rng or np.random.default_rng()
    x, scalar, log_p = _start(log_prob, initial)
    dim = len(x)
    C = np.eye(dim) if inverse_mass is None else np.atleast_2d(np.asarray(inverse_mass, dtype=float))
    if C.shape != (dim, dim):
        raise ValueError(f"inverse_mass must be {dim} x {dim} for a {dim}-dimensional target, got {C.shape}.")
    L = np.linalg.cholesky(C)  # C = L L^T, so r = L^-T z has covariance C^-1 = M

    def grad(v):
        return np.atleast_1d(np.asarray(grad_log_prob(float(v[0]) if scalar else v), dtype=float))

    current, current_grad = log_p(x), grad(x)
    samples, log_probs, accepted = np.empty((n_samples, dim)), np.empty(n_samples), 0
    for i in range(burn_in + n_samples):
        r = np.linalg.solve(L.T, rng.standard_normal(dim))
        x_new, g_new = x.copy(), current_grad
        r_new = r + 0.5 * step_size * g_new
        for leap in range(n_leapfrog):
            x_new = x_new + step_size * (C @ r_new)
            g_new = grad(x_new)
            r_new = r_new + (step_size if leap < n_leapfrog - 1 else 0.5 * step_size) * g_new
        candidate = log_p(x_new)
        log_accept = (candidate - 0.5 * r_new @ C @ r_new) - (current - 0.5 * r @ C @ r)
        if np.isfinite(log_accept) and np.log(rng.random()) < log_accept:
            x, current, current_grad = x_new, candidate, g_new
            accepted += i >= burn_in
        if i >= burn_in:
            samples[i - burn_in], log_probs[i - burn_in] = x, current
    return Chain(samples[:, 0] if scalar else samples, accepted / n_samples, log_probs)


# -- where to start and how far to step: the set-up of a sampler ------------------------------------------
def optimal_proposal_scale(dim: int) -> float:
    """2.38 / sqrt(d): the random-walk scale, in units of the target's covariance, that mixes fastest on a
    d-dimensional Gaussian-like target (Roberts, Gelman & Gilks 1997; Gelman et al., BDA3 sec. 12.2)."""
    if dim < 1:
        raise ValueError(f"dim must be >= 1, got {dim!r}.")
    return 2.38 / np.sqrt(dim)


def overdispersed_starts(center, covariance, n_chains: int, rng: np.random.Generator, spread: float) -> np.ndarray:
    """(n_chains, d) starting points: center plus `spread` standard deviations (the diagonal of covariance) in
    random directions. Starting wider than the posterior is what lets split R-hat catch a chain that has not
    forgotten where it began (BDA3 sec. 11.4)."""
    center = np.asarray(center, dtype=float)
    sd = np.sqrt(np.diag(np.atleast_2d(covariance)))
    return center + spread * rng.standard_normal((n_chains, len(center))) * sd


def spread_over_unit_interval(n_chains: int) -> np.ndarray:
    """n_chains starts (i + 1/2) / n_chains, evenly over (0, 1): dispersed starts for a probability."""
    return (np.arange(n_chains) + 0.5) / n_chains


# -- diagnostics --------------------------------------------------------------------------------------------
def _as_chains(chains) -> np.ndarray:
    """(m chains, n draws) for one scalar quantity; a single 1-D chain is (1, n)."""
    chains = np.asarray(chains, dtype=float)
    if chains.ndim == 1:
        chains = chains[None, :]
    if chains.ndim != 2 or chains.shape[1] < 4:
        raise ValueError(
            f"chains must be (n_chains, n_draws) with at least 4 draws for one scalar quantity, got {chains.shape}; "
            "for a vector parameter pass chains[..., j] one coordinate at a time."
        )
    return chains


def autocovariance(x) -> np.ndarray:
    """gamma_t = (1/n) sum_{i < n - t} (x_i - x_bar)(x_{i+t} - x_bar) for t = 0..n-1, by FFT in O(n log n):
    zero-pad to 2n so the circular correlation the FFT computes equals the linear one."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    centered = x - x.mean()
    size = 1 << (2 * n - 1).bit_length()
    spectrum = np.fft.rfft(centered, size)
    return np.fft.irfft(spectrum * np.conj(spectrum), size)[:n] / n


def autocorrelation(x, max_lag: int | None = None) -> np.ndarray:
    """rho_t = gamma_t / gamma_0 for t = 0..max_lag (rho_0 = 1)."""
    acov = autocovariance(x)
    if acov[0] == 0:
        raise ValueError("the chain is constant: autocorrelation is undefined (did the sampler never move?).")
    rho = acov / acov[0]
    return rho if max_lag is None else rho[: max_lag + 1]


def mean_autocorrelation(samples: np.ndarray, max_lag: int) -> np.ndarray:
    """The autocorrelation up to max_lag averaged over every chain and coordinate of (m, n, d) samples: one
    curve that says how fast a sampler forgets, for comparing samplers on one plot."""
    m, _, d = samples.shape
    return np.mean([autocorrelation(samples[c, :, j], max_lag) for c in range(m) for j in range(d)], axis=0)


def _between_within(chains: np.ndarray) -> tuple[float, float]:
    """(W, var_plus): mean within-chain variance and the pooled estimate of the target's variance,
    var_plus = (n - 1)/n W + B/n with B/n the variance of the chain means."""
    n = chains.shape[1]
    W = chains.var(axis=1, ddof=1).mean()
    B_over_n = chains.mean(axis=1).var(ddof=1) if len(chains) > 1 else 0.0
    return W, (n - 1) / n * W + B_over_n


def effective_sample_size(chains) -> float:
    """ESS of one scalar quantity over m chains of n draws (BDA3 eq. 11.8 with Geyer's truncation):

    rho_t = 1 - (W - mean over chains of gamma_t) / var_plus
    tau = -1 + 2 sum_k P_k,  P_k = rho_{2k} + rho_{2k+1}, summed while positive and made non-increasing
    ESS = m n / tau
    """
    chains = _as_chains(chains)
    m, n = chains.shape
    W, var_plus = _between_within(chains)
    if var_plus == 0:
        raise ValueError("all draws are identical: the effective sample size is undefined.")
    mean_acov = np.mean([autocovariance(c) for c in chains], axis=0)
    rho = 1 - (W - mean_acov) / var_plus  # as Stan computes it (gamma_t with 1/n)
    rho[0] = 1.0
    tau, previous = -1.0, np.inf
    for k in range(n // 2):
        pair = rho[2 * k] + rho[2 * k + 1]
        if pair < 0:
            break
        previous = min(previous, pair)  # Geyer's monotone sequence: the pair sums can only fall
        tau += 2 * previous
    # anti-correlated draws (HMC often) can make tau < 1, even < 0: Stan caps ESS at m n log10(m n)
    return m * n / max(tau, 1 / np.log10(m * n))


def split_rhat(chains) -> float:
    """Split R-hat = sqrt(var_plus / W) over the 2m half-chains (splitting also catches one chain drifting)."""
    chains = _as_chains(chains)
    half = chains.shape[1] // 2
    halves = np.concatenate([chains[:, :half], chains[:, -half:]])
    W, var_plus = _between_within(halves)
    if W == 0:
        return np.inf if var_plus > 0 else 1.0  # stuck chains: no within-chain variation at all
    return float(np.sqrt(var_plus / W))


def monte_carlo_standard_error(chains) -> float:
    """Standard error of the posterior-mean estimate: sd / sqrt(ESS)."""
    chains = _as_chains(chains)
    return float(chains.std(ddof=1) / np.sqrt(effective_sample_size(chains)))


def summarize(chains: np.ndarray) -> dict[str, np.ndarray]:
    """Per coordinate of (m, n, d) chains: mean, var, ESS, split R-hat, MCSE of the mean."""
    chains = np.asarray(chains, dtype=float)
    if chains.ndim == 2:
        chains = chains[..., None]
    coords = [chains[..., j] for j in range(chains.shape[-1])]
    return {
        "mean": np.array([c.mean() for c in coords]),
        "var": np.array([c.var(ddof=1) for c in coords]),
        "ess": np.array([effective_sample_size(c) for c in coords]),
        "rhat": np.array([split_rhat(c) for c in coords]),
        "mcse": np.array([monte_carlo_standard_error(c) for c in coords]),
    }
