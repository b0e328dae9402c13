"""Telco churn: features, and retention offers decided in money.

Preprocessing (what the raw table needs, said plainly):
- TotalCharges is blank for exactly the 11 customers whose tenure is 0: they joined this month and have not been
  billed yet. Their total is set to 0 (what has been charged so far), not imputed with a mean, and the number
  of rows so treated is returned so the stage reports it.
- customerID is an identifier, never a feature; Churn is the target and nothing derived from it is a feature
  (src/case_studies/modeling.check_no_leakage holds both).
- Categories are one-hot encoded (a fixed mapping, no statistics learned, so doing it before the folds leaks
  nothing); a few derived columns use only the row's own fields: log tenure, average monthly charge so far,
  number of add-on services, and three interactions known to matter on this data (month-to-month contract x
  tenure, fibre x monthly charge, electronic check x month-to-month).

Decisions (the profit of a retention offer):
- a customer offered the deal costs `offer_cost` whatever they do (a discount or a gift), and a customer who
  would have churned stays with probability `acceptance_rate`, keeping `value_months` of their monthly charge
  at gross `margin`: value_i = MonthlyCharges_i * value_months * margin.
- Expected profit of an offer to customer i with churn probability p_i: p_i * acceptance * value_i - cost, so
  the per-customer break-even probability is cost / (acceptance * value_i).
- Realised profit of "offer to everyone scored >= t", on out-of-fold predictions and true labels:
  sum over offered of (y_i * acceptance * value_i - cost). Offer-to-nobody is 0 by definition.
"""

import numpy as np
import pandas as pd

from src.case_studies import data

SPLINE_FEATURES = ("tenure", "MonthlyCharges", "log_total_charges")


def handle_blank_total_charges(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """TotalCharges blanks -> 0 when tenure is 0 (not billed yet); a blank for a customer with tenure > 0 is
    not explainable that way and raises, naming the column and customer."""
    blank = frame["TotalCharges"].isna()
    unexplained = blank & (frame["tenure"] > 0)
    if unexplained.any():
        who = frame.loc[unexplained, data.CHURN_ID].iloc[0]
        raise data.TableSchemaError(
            f"column 'TotalCharges' is blank for {int(unexplained.sum())} customer(s) with tenure > 0 (e.g. {who}); "
            "only new customers (tenure 0, not billed yet) may have no total"
        )
    out = frame.copy()
    out.loc[blank, "TotalCharges"] = 0.0
    return out, int(blank.sum())


def features(frame: pd.DataFrame) -> pd.DataFrame:
    """The model's input table (one row per customer, floats), from a frame whose TotalCharges has no blanks."""
    X = pd.get_dummies(
        frame[[*data.CHURN_CATEGORICAL, *data.CHURN_NUMERIC]], columns=list(data.CHURN_CATEGORICAL), dtype=float
    )
    X["log_tenure"] = np.log1p(X["tenure"])
    X["average_monthly_charge"] = X["TotalCharges"] / np.maximum(X["tenure"], 1)
    X["log_total_charges"] = np.log1p(X["TotalCharges"])
    X["add_on_services"] = sum((frame[s] == "Yes").astype(float) for s in data.CHURN_ADD_ON_SERVICES)
    X["month_to_month_x_log_tenure"] = X["Contract_Month-to-month"] * X["log_tenure"]
    X["fibre_x_monthly_charge"] = X["InternetService_Fiber optic"] * X["MonthlyCharges"]
    X["electronic_check_x_month_to_month"] = X["PaymentMethod_Electronic check"] * X["Contract_Month-to-month"]
    return X


def prepare(frame: pd.DataFrame):
    """(X, y, customer ids, MonthlyCharges, blank TotalCharges handled) from the loaded table."""
    frame, blanks = handle_blank_total_charges(frame)
    X = features(frame)
    return X, frame["churned"].to_numpy(), frame[data.CHURN_ID].to_numpy(), frame["MonthlyCharges"].to_numpy(), blanks


def customer_value(monthly_charges, value_months: float, margin: float) -> np.ndarray:
    """What keeping a would-be churner is worth: margin on value_months more months of their bill."""
    return np.asarray(monthly_charges, dtype=float) * value_months * margin


def offer_profit(y, offered, value, offer_cost: float, acceptance_rate: float) -> float:
    """Realised profit of offering to the rows in `offered` (bool): churners offered stay with probability
    acceptance_rate (counted in expectation), every offer costs offer_cost."""
    y, offered = np.asarray(y, dtype=float), np.asarray(offered, dtype=bool)
    return float(np.sum((y * acceptance_rate * np.asarray(value) - offer_cost)[offered]))


def profit_curve(y, proba, value, offer_cost: float, acceptance_rate: float, thresholds) -> list[dict]:
    """Profit, offers made and churners reached for "offer when p >= t", for each t."""
    y, proba = np.asarray(y), np.asarray(proba)
    rows = []
    for t in thresholds:
        offered = proba >= t
        rows.append(
            {
                "threshold": float(t),
                "profit": offer_profit(y, offered, value, offer_cost, acceptance_rate),
                "offers": int(offered.sum()),
                "churners_offered": int((offered & (y == 1)).sum()),
            }
        )
    return rows


def best_threshold(y, proba, value, offer_cost: float, acceptance_rate: float, thresholds) -> tuple[float, float]:
    """(threshold, profit) maximising realised profit over the grid (the first on ties: fewer offers win)."""
    curve = profit_curve(y, proba, value, offer_cost, acceptance_rate, thresholds)
    best = max(curve, key=lambda r: (r["profit"], r["threshold"]))
    return best["threshold"], best["profit"]


def cross_fitted_profit(y, proba, value, folds, offer_cost: float, acceptance_rate: float, thresholds) -> float:
    """Profit when each fold's threshold is chosen on the other folds: what a threshold picked on past
    customers earns on new ones (the curve's maximum is optimistic, being chosen on the customers it scores)."""
    y, proba, value = np.asarray(y), np.asarray(proba), np.asarray(value, dtype=float)
    total = 0.0
    for k in range(int(folds.max()) + 1):
        others, this = folds != k, folds == k
        t, _ = best_threshold(y[others], proba[others], value[others], offer_cost, acceptance_rate, thresholds)
        total += offer_profit(y[this], proba[this] >= t, value[this], offer_cost, acceptance_rate)
    return total


def expected_profit_rule(proba, value, offer_cost: float, acceptance_rate: float) -> np.ndarray:
    """Offer exactly when the expected profit p * acceptance * value - cost is positive (needs calibrated p)."""
    return np.asarray(proba) * acceptance_rate * np.asarray(value) > offer_cost
