"""Multi-armed bandits for A/B tests: Thompson sampling, epsilon-greedy, UCB1, KL-UCB and uniform random.

An A/B test as a bandit: each model version is an arm, each request a pull, and the reward is 1 when the served
prediction turned out right. A fixed 50/50 split pays for its answer with half the traffic on the worse arm for
the whole test; a bandit moves traffic to the better arm as evidence arrives. Regret after T pulls is
    R(T) = sum_t (mu* - mu_{a_t}),  mu* = max_k mu_k
(the pseudo-regret: expected reward lost against always pulling the best arm; its mean over runs equals the mean
realised regret and has less noise).

Every policy here keeps its state for a *batch* of independent runs (arrays of shape (runs, arms)): the offline
simulation plays thousands of runs in one vectorised loop, and the service uses a batch of one. The interface:
    policy.select(rng) -> arm per run (runs,);  policy.update(arms, rewards);  policy.traffic_share() (runs, arms)

- Thompson sampling (Thompson 1933; Agrawal & Goyal 2012): keep a Beta(alpha, beta) posterior per arm, draw one
  sample from each and pull the argmax: each arm is played with the posterior probability that it is the best.
- epsilon-greedy: the best empirical mean with probability 1 - epsilon, a uniform arm otherwise (never stops
  exploring: its regret grows linearly, at about epsilon * mean gap per pull).
- UCB1 (Auer, Cesa-Bianchi & Fischer 2002): pull each arm once, then argmax mean + sqrt(2 ln t / n_k).
- KL-UCB (Garivier & Cappe 2011): the largest q with n_k * kl(mean_k, q) <= ln t (+ c ln ln t), found by
  bisection; tighter than UCB1's Hoeffding bound for Bernoulli rewards.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np


class BanditPolicy(ABC):
    """State of `runs` independent bandit runs over `n_arms` arms."""

    name = "policy"

    def __init__(self, n_arms: int, runs: int = 1):
        if n_arms < 2:
            raise ValueError(f"a bandit needs at least 2 arms, got n_arms={n_arms}")
        if runs < 1:
            raise ValueError(f"runs must be >= 1, got {runs}")
        self.n_arms, self.runs = n_arms, runs
        self.pulls = np.zeros((runs, n_arms))
        self.successes = np.zeros((runs, n_arms))
        self.t = 0  # pulls so far in each run (all runs advance together)

    @abstractmethod
    def select(self, rng: np.random.Generator) -> np.ndarray:
        """The arm each run pulls next, shape (runs,)."""

    def update(self, arms, rewards) -> None:
        """Record one pull per run: arm arms[i] gave reward rewards[i] in {0, 1}."""
        arms, rewards = np.asarray(arms, dtype=int), np.asarray(rewards, dtype=float)
        if arms.shape != (self.runs,) or rewards.shape != (self.runs,):
            raise ValueError(f"update needs one arm and one reward per run ({self.runs}), got {arms.shape}")
        if np.any((arms < 0) | (arms >= self.n_arms)):
            raise ValueError(f"arms must be in [0, {self.n_arms}), got {arms.min()}..{arms.max()}")
        rows = np.arange(self.runs)
        self.pulls[rows, arms] += 1
        self.successes[rows, arms] += rewards
        self.t += 1

    def means(self) -> np.ndarray:
        """Empirical success rate per arm (0 for arms never pulled)."""
        return np.divide(self.successes, self.pulls, out=np.zeros_like(self.successes), where=self.pulls > 0)

    def traffic_share(self) -> np.ndarray:
        """Share of pulls each arm has had so far, (runs, arms)."""
        return self.pulls / max(self.t, 1)


def _argmax_random_ties(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Row-wise argmax, ties broken uniformly (a plain argmax always favours arm 0 before any data)."""
    noise = rng.random(values.shape) * 1e-9
    best = values.max(axis=1, keepdims=True)
    return np.argmax(np.where(values >= best - 1e-12, 1.0 + noise, 0.0), axis=1)


class RandomPolicy(BanditPolicy):
    name = "random"

    def select(self, rng):
        return rng.integers(0, self.n_arms, size=self.runs)


class ThompsonSampling(BanditPolicy):
    """Beta-Bernoulli Thompson sampling with a Beta(prior_alpha, prior_beta) prior on every arm."""

    name = "thompson"

    def __init__(self, n_arms: int, runs: int = 1, prior_alpha: float = 1.0, prior_beta: float = 1.0):
        super().__init__(n_arms, runs)
        if prior_alpha <= 0 or prior_beta <= 0:
            raise ValueError(f"Beta prior needs alpha, beta > 0, got {prior_alpha}, {prior_beta}")
        self.prior_alpha, self.prior_beta = prior_alpha, prior_beta

    def posterior(self) -> tuple[np.ndarray, np.ndarray]:
        """(alpha, beta) of each arm's Beta posterior: prior + successes, prior + failures."""
        return self.prior_alpha + self.successes, self.prior_beta + self.pulls - self.successes

    def select(self, rng):
        alpha, beta = self.posterior()
        return np.argmax(rng.beta(alpha, beta), axis=1)

    def probability_best(self, rng: np.random.Generator, draws: int = 4000) -> np.ndarray:
        """P(arm k is the best | data) per run, by Monte Carlo: Thompson sampling's traffic share right now."""
        alpha, beta = self.posterior()
        samples = rng.beta(alpha[None], beta[None], size=(draws, *alpha.shape))
        winners = np.argmax(samples, axis=2)
        return np.stack([(winners == k).mean(axis=0) for k in range(self.n_arms)], axis=1)


class EpsilonGreedy(BanditPolicy):
    name = "epsilon_greedy"

    def __init__(self, n_arms: int, runs: int = 1, epsilon: float = 0.1):
        super().__init__(n_arms, runs)
        if not 0 <= epsilon <= 1:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
        self.epsilon = epsilon

    def select(self, rng):
        # An arm never pulled counts as the best (optimistic start), so greedy pulls try every arm once.
        values = np.where(self.pulls > 0, self.means(), np.inf)
        greedy = _argmax_random_ties(values, rng)
        explore = rng.random(self.runs) < self.epsilon
        return np.where(explore, rng.integers(0, self.n_arms, size=self.runs), greedy)


class UCB1(BanditPolicy):
    name = "ucb1"

    def select(self, rng):
        if self.t < self.n_arms:  # each arm once first
            return np.full(self.runs, self.t)
        bonus = np.sqrt(2.0 * np.log(self.t) / self.pulls)
        return _argmax_random_ties(self.means() + bonus, rng)


def bernoulli_kl(p, q):
    """kl(p, q) = p ln(p/q) + (1-p) ln((1-p)/(1-q)), the KL divergence between Bernoulli(p) and Bernoulli(q)."""
    eps = 1e-12
    p, q = np.clip(p, eps, 1 - eps), np.clip(q, eps, 1 - eps)
    return p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))


class KLUCB(BanditPolicy):
    name = "kl_ucb"

    def __init__(self, n_arms: int, runs: int = 1, c: float = 0.0, iterations: int = 25):
        super().__init__(n_arms, runs)
        self.c, self.iterations = c, iterations

    def select(self, rng):
        if self.t < self.n_arms:
            return np.full(self.runs, self.t)
        budget = (np.log(self.t) + self.c * np.log(max(np.log(self.t), 1e-12))) / self.pulls
        mean = self.means()
        low, high = mean.copy(), np.ones_like(mean)
        for _ in range(self.iterations):  # bisection: kl(mean, q) rises in q on [mean, 1]
            mid = (low + high) / 2
            inside = bernoulli_kl(mean, mid) <= budget
            low, high = np.where(inside, mid, low), np.where(inside, high, mid)
        return _argmax_random_ties(low, rng)


POLICIES = {p.name: p for p in (ThompsonSampling, EpsilonGreedy, UCB1, KLUCB, RandomPolicy)}


def make_policy(name: str, n_arms: int, runs: int = 1, **params) -> BanditPolicy:
    if name not in POLICIES:
        raise ValueError(f"unknown bandit policy {name!r}: choose one of {sorted(POLICIES)}")
    return POLICIES[name](n_arms, runs, **params)


# -- offline simulation ----------------------------------------------------------------------------------------
@dataclass
class SimulationResult:
    cumulative_regret: np.ndarray  # (runs, horizon) pseudo-regret after each pull
    final_share_best: np.ndarray  # (runs,) share of pulls on the best arm

    @property
    def final_regret(self) -> np.ndarray:
        return self.cumulative_regret[:, -1]


def simulate(policy: BanditPolicy, means: np.ndarray, horizon: int, rng: np.random.Generator) -> SimulationResult:
    """Play `policy` for `horizon` pulls on Bernoulli arms with success rates means (runs, arms)."""
    means = np.asarray(means, dtype=float)
    if means.shape != (policy.runs, policy.n_arms):
        raise ValueError(f"means must have shape (runs, arms) = {(policy.runs, policy.n_arms)}, got {means.shape}")
    rows, best = np.arange(policy.runs), means.max(axis=1)
    regret = np.zeros((policy.runs, horizon))
    for step in range(horizon):
        arms = policy.select(rng)
        chosen = means[rows, arms]
        policy.update(arms, (rng.random(policy.runs) < chosen).astype(float))
        regret[:, step] = best - chosen
    share_best = policy.pulls[rows, means.argmax(axis=1)] / horizon
    return SimulationResult(np.cumsum(regret, axis=1), share_best)


def mean_with_ci(values, z: float = 1.96) -> tuple[float, float, float]:
    """(mean, lower, upper): a normal-approximation 95% confidence interval of the mean over runs."""
    values = np.asarray(values, dtype=float)
    half = z * values.std(ddof=1) / np.sqrt(len(values))
    return float(values.mean()), float(values.mean() - half), float(values.mean() + half)


def banditbench(
    policies: dict[str, dict], runs: int, horizon: int, n_arms: int, seed: int
) -> dict[str, SimulationResult]:
    """The banditbench setting (DataWraith/banditbench): `n_arms` Bernoulli arms whose success rates are drawn
    uniformly from [0, 1] afresh for every run; every policy plays the same instances. `policies` maps a name
    (key of POLICIES) to its parameters."""
    means = np.random.default_rng(seed).random((runs, n_arms))
    results = {}
    for offset, (name, params) in enumerate(policies.items()):
        rng = np.random.default_rng([seed, offset + 1])
        results[name] = simulate(make_policy(name, n_arms, runs, **params), means, horizon, rng)
    return results


# -- replay on logged outcomes -----------------------------------------------------------------------------------
def replay(policy: BanditPolicy, outcomes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Replay a stream of requests through a bandit: outcomes (requests, arms) says whether each arm's answer
    to each request was right (known offline for every arm, e.g. out-of-fold predictions). Each of the policy's
    runs sees the requests in its own random order. Returns (chosen arm, reward) per (run, request)."""
    outcomes = np.asarray(outcomes, dtype=float)
    if outcomes.ndim != 2 or outcomes.shape[1] != policy.n_arms:
        raise ValueError(f"outcomes must be (requests, {policy.n_arms}), got {outcomes.shape}")
    orders = np.argsort(rng.random((policy.runs, len(outcomes))), axis=1)
    chosen = np.zeros((policy.runs, len(outcomes)), dtype=int)
    rewards = np.zeros((policy.runs, len(outcomes)))
    for step in range(len(outcomes)):
        arms = policy.select(rng)
        rewards[:, step] = outcomes[orders[:, step], arms]
        policy.update(arms, rewards[:, step])
        chosen[:, step] = arms
    return chosen, rewards


def traffic_share_curve(chosen: np.ndarray, arm: int, window: int) -> np.ndarray:
    """Mean over runs of the share of the last `window` requests sent to `arm`, after each request."""
    hits = (chosen == arm).astype(float)
    cumulative = np.cumsum(hits, axis=1)
    lagged = np.concatenate([np.zeros((len(hits), window)), cumulative[:, :-window]], axis=1)[:, : hits.shape[1]]
    counts = np.minimum(np.arange(1, hits.shape[1] + 1), window)
    return ((cumulative - lagged) / counts).mean(axis=0)
