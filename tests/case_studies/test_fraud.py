"""Prior shift and review costs, against hand-computed cases."""

import numpy as np
import pytest

from src.case_studies import fraud


def test_normal_weight_restores_the_real_prevalence():
    w = fraud.normal_weight(492, 2000, 0.00172)
    assert 492 / (492 + w * 2000) == pytest.approx(0.00172)
    assert w == pytest.approx(492 * 0.99828 / (0.00172 * 2000))
    with pytest.raises(ValueError, match="prevalence"):
        fraud.normal_weight(1, 1, 1.5)


def test_precision_at_prevalence_by_hand():
    # TPR 0.8, FPR 0.001 at 0.2 % fraud: 0.0016 / (0.0016 + 0.998 * 0.001) = 0.6159
    assert fraud.precision_at_prevalence(0.8, 0.001, 0.002) == pytest.approx(0.0016 / (0.0016 + 0.000998))
    assert fraud.precision_at_prevalence(0.0, 0.0, 0.1) == 0


def test_prior_shift_by_hand_and_identity():
    p = np.array([0.1, 0.5, 0.9])
    assert fraud.prior_shift(p, 0.2, 0.2) == pytest.approx(p)
    # p = 0.5 at pi_s = 0.5 becomes pi: the odds scale by pi/(1-pi) / (pi_s/(1-pi_s))
    assert fraud.prior_shift(np.array([0.5]), 0.5, 0.01)[0] == pytest.approx(0.01)
    odds = 0.9 / 0.1 * (0.01 / 0.99) / (0.2 / 0.8)
    assert fraud.prior_shift(np.array([0.9]), 0.2, 0.01)[0] == pytest.approx(odds / (1 + odds))


def test_policy_cost_by_hand():
    y = np.array([1, 1, 0, 0])
    amount = np.array([100.0, 50.0, 10.0, 10.0])
    flagged = np.array([True, False, True, False])
    weights = np.array([1.0, 1.0, 9.0, 9.0])  # 20 weighted transactions, 2 frauds
    cost = fraud.policy_cost(y, flagged, amount, 2.0, weights)
    scale = fraud.PER_TRANSACTIONS / 20
    assert cost["missed_fraud_amount"] == pytest.approx(50 * scale)
    assert cost["reviews"] == pytest.approx(10 * scale)
    assert cost["cost"] == pytest.approx((50 + 2 * 10) * scale)
    assert cost["recall"] == 0.5 and cost["precision"] == pytest.approx(0.1)
