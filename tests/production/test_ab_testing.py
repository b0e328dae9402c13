"""Bandit policies: each rule checked against its formula, and the regret ordering the literature reports."""

import numpy as np
import pytest
from scipy.optimize import brentq

from src.production import ab_testing as ab


def test_thompson_posterior_is_the_beta_conjugate_update():
    policy = ab.ThompsonSampling(3, runs=2, prior_alpha=2.0, prior_beta=3.0)
    policy.update([0, 2], [1, 0])
    policy.update([0, 2], [0, 0])
    alpha, beta = policy.posterior()
    np.testing.assert_array_equal(alpha, [[3, 2, 2], [2, 2, 2]])
    np.testing.assert_array_equal(beta, [[4, 3, 3], [3, 3, 5]])


def test_thompson_traffic_follows_the_probability_of_being_best():
    rng = np.random.default_rng(0)
    policy = ab.ThompsonSampling(2, runs=1)
    policy.successes[:] = [[30, 20]]
    policy.pulls[:] = [[50, 50]]
    picks = np.array([policy.select(rng)[0] for _ in range(4000)])
    p_best = policy.probability_best(rng, draws=20000)[0]
    assert abs((picks == 0).mean() - p_best[0]) < 0.03  # Thompson sampling plays each arm with P(best | data)
    assert p_best[0] > 0.9


def test_ucb1_index_is_mean_plus_sqrt_two_log_t_over_n():
    policy = ab.UCB1(2, runs=1)
    rng = np.random.default_rng(0)
    assert policy.select(rng)[0] == 0
    policy.update([0], [1])
    assert policy.select(rng)[0] == 1
    policy.update([1], [0])
    for arm, reward in [(1, 1), (1, 1), (1, 1)]:
        policy.update([arm], [reward])
    # arm 0: mean 1, n 1; arm 1: mean 3/4, n 4; t = 5
    index = [1 + np.sqrt(2 * np.log(5) / 1), 0.75 + np.sqrt(2 * np.log(5) / 4)]
    assert policy.select(rng)[0] == int(np.argmax(index))


def test_kl_ucb_bound_matches_root_finding():
    policy = ab.KLUCB(2, runs=1, iterations=50)
    policy.pulls[:] = [[8, 2]]
    policy.successes[:] = [[6, 1]]
    policy.t = 10
    budget = np.log(10) / 8
    expected = brentq(lambda q: ab.bernoulli_kl(0.75, q) - budget, 0.75, 1 - 1e-12)
    mean, low, high = policy.means(), policy.means().copy(), np.ones((1, 2))
    for _ in range(50):
        mid = (low + high) / 2
        inside = ab.bernoulli_kl(mean, mid) <= np.log(10) / policy.pulls
        low, high = np.where(inside, mid, low), np.where(inside, high, mid)
    assert abs(low[0, 0] - expected) < 1e-9


def test_epsilon_greedy_extremes():
    rng = np.random.default_rng(1)
    greedy = ab.EpsilonGreedy(3, runs=500, epsilon=0.0)
    greedy.pulls[:] = 1
    greedy.successes[:] = [0, 1, 0]
    assert (greedy.select(rng) == 1).all()
    uniform = ab.EpsilonGreedy(3, runs=30000, epsilon=1.0)
    uniform.pulls[:] = 1
    uniform.successes[:] = [0, 1, 0]
    counts = np.bincount(uniform.select(rng), minlength=3) / 30000
    assert np.abs(counts - 1 / 3).max() < 0.02


def test_banditbench_ordering_and_random_regret_matches_its_expectation():
    results = ab.banditbench(
        {"thompson": {}, "ucb1": {}, "random": {}, "epsilon_greedy": {"epsilon": 0.1}},
        runs=400,
        horizon=200,
        n_arms=10,
        seed=3,
    )
    regret = {name: ab.mean_with_ci(r.final_regret) for name, r in results.items()}
    # random: each pull loses E[max of 10 U(0,1)] - E[U] = 10/11 - 1/2 on average
    mean, low, high = regret["random"]
    assert low - 3 < 200 * (10 / 11 - 0.5) < high + 3
    assert max(regret["thompson"][0], regret["epsilon_greedy"][0]) < regret["ucb1"][0] < regret["random"][0]
    assert results["thompson"].final_share_best.mean() > 0.5


def test_replay_moves_traffic_to_the_arm_that_is_right_more_often():
    rng = np.random.default_rng(0)
    outcomes = np.stack([rng.random(600) < 0.55, rng.random(600) < 0.8], axis=1)
    chosen, rewards = ab.replay(ab.ThompsonSampling(2, runs=50), outcomes, rng)
    assert 0.7 < rewards.mean() < 0.8
    curve = ab.traffic_share_curve(chosen, arm=1, window=50)
    assert curve[25] < 0.8 and curve[-1] > 0.9


def test_traffic_share_curve_is_a_windowed_share():
    chosen = np.array([[0, 1, 1, 1, 0]])
    np.testing.assert_allclose(ab.traffic_share_curve(chosen, 1, window=2), [0, 0.5, 1, 1, 0.5])


@pytest.mark.parametrize(
    "make",
    [
        lambda: ab.make_policy("nope", 2),
        lambda: ab.ThompsonSampling(1),
        lambda: ab.ThompsonSampling(2, prior_alpha=0),
        lambda: ab.EpsilonGreedy(2, epsilon=1.5),
        lambda: ab.ThompsonSampling(2).update([5], [1]),
        lambda: ab.simulate(ab.UCB1(2, runs=2), np.zeros((3, 2)), 5, np.random.default_rng()),
    ],
)
def test_bad_arguments_are_refused(make):
    with pytest.raises(ValueError):
        make()
