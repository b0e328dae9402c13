"""Churn preprocessing and the money arithmetic, against hand-computed cases."""

import numpy as np
import pandas as pd
import pytest

from src.case_studies import churn, data


def test_blank_total_charges_become_zero_only_for_new_customers():
    frame = pd.DataFrame({"customerID": ["a", "b"], "tenure": [0.0, 5.0], "TotalCharges": [np.nan, 100.0]})
    fixed, count = churn.handle_blank_total_charges(frame)
    assert count == 1 and fixed["TotalCharges"].tolist() == [0.0, 100.0]
    frame.loc[1, "TotalCharges"] = np.nan
    with pytest.raises(
        data.TableSchemaError, match="'TotalCharges' is blank for 1 customer\\(s\\) with tenure > 0 \\(e.g. b\\)"
    ):
        churn.handle_blank_total_charges(frame)


def test_prepared_features_hold_no_id_and_no_target():
    X, y, ids, monthly, blanks = churn.prepare(data.load_churn())
    assert blanks == 11 and len(X) == len(y) == len(ids) == 7043
    assert not any("churn" in c.lower() or c == "customerID" for c in X.columns)
    assert np.isfinite(X.to_numpy()).all()


def test_profit_by_hand():
    # 4 customers: churners 1 and 3; value 100 each; cost 10; acceptance 0.5
    y = np.array([1, 0, 1, 0])
    p = np.array([0.9, 0.6, 0.4, 0.1])
    value = np.full(4, 100.0)
    # offer to p >= 0.5: customers 0 and 1 -> 0.5*100 - 10 + (0 - 10) = 30
    assert churn.offer_profit(y, p >= 0.5, value, 10, 0.5) == pytest.approx(30)
    curve = churn.profit_curve(y, p, value, 10, 0.5, [0.0, 0.3, 0.5, 0.95])
    assert [r["profit"] for r in curve] == pytest.approx([60, 70, 30, 0])  # everyone: 2*40 - 2*10 = 60
    assert churn.best_threshold(y, p, value, 10, 0.5, [0.0, 0.3, 0.5, 0.95]) == (0.3, pytest.approx(70))
    # expected-value rule: p * 0.5 * 100 > 10  <=>  p > 0.2
    assert churn.expected_profit_rule(p, value, 10, 0.5).tolist() == [True, True, True, False]
    assert churn.customer_value([50.0], 12, 0.5)[0] == 300


def test_cross_fitted_threshold_comes_from_the_other_folds():
    y = np.array([1, 0, 1, 0])
    p = np.array([0.9, 0.6, 0.4, 0.1])
    value = np.full(4, 100.0)
    folds = np.array([0, 0, 1, 1])
    # fold 0's threshold is chosen on fold 1 (rows 2, 3): best 0.3 (offer row 2 only, +40); applied to rows 0, 1:
    # both offered: 40 - 10 = 30. Fold 1's threshold from rows 0, 1: 0.95 gives 0, 0.5 gives 30, 0.3 gives 30,
    # 0.0 gives 30 -> ties go to the highest threshold (0.5): row 2 (p 0.4) not offered, row 3 neither: 0.
    total = churn.cross_fitted_profit(y, p, value, folds, 10, 0.5, [0.0, 0.3, 0.5, 0.95])
    assert total == pytest.approx(30)


def test_leakage_guard_passes_the_real_features_and_catches_a_target_copy():
    from src.case_studies import modeling

    X, y, ids, _, _ = churn.prepare(data.load_churn())
    folds = modeling.fold_ids(y, 5, seed=42)
    modeling.check_no_leakage(ids, folds, list(X.columns), data.CHURN_TARGET, X.to_numpy(), y)
    leaked = X.assign(cancellation_fee_billed=y * 25.0)  # a column only churners have: the target in disguise
    with pytest.raises(modeling.LeakageError, match="cancellation_fee_billed"):
        modeling.check_no_leakage(ids, folds, list(leaked.columns), data.CHURN_TARGET, leaked.to_numpy(), y)
    twin = ids.copy()
    other = int(np.flatnonzero(folds != folds[0])[0])
    twin[other] = ids[0]  # the same customer exported twice, once in another fold
    with pytest.raises(modeling.LeakageError, match=f"more than one fold, e.g. '{ids[0]}'"):
        modeling.check_no_leakage(twin, folds, list(X.columns), "Churn")
