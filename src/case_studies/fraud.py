"""Card fraud on a rebalanced sample: what the sample's figures mean at the real prevalence, and the cost of a
review policy.

The sample (data/raw/SOURCES.md section 6) keeps all 492 frauds of the ULB data and 2,000 of its 284,315
normal transactions: 19.7 % fraud instead of 0.172 %. Three consequences, each handled here:

1. ROC-AUC does not depend on the class ratio (it compares a random fraud with a random normal), so the
   sample's ROC-AUC estimates the full data's (with more noise: 2,000 normals stand for 284,315).
2. Precision and AUPRC do depend on it. At a threshold with true-positive rate TPR and false-positive rate FPR,
   precision at prevalence pi is pi*TPR / (pi*TPR + (1 - pi)*FPR): the same model at 0.172 % has far lower
   precision than at 19.7 %. Weighting each sampled normal by w = (n_fraud / n_normal) * (1 - pi) / pi makes
   the weighted sample behave as the real class mix (each normal stands for w of them).
3. Probabilities: a model trained at prevalence pi_s outputs p_s; at prevalence pi the posterior is
   p = p_s*r / (p_s*r + (1 - p_s)*(1 - r')) with r = pi/pi_s, r' = (1 - pi)/(1 - pi_s) (Saerens, Latinne and
   Decaestecker, Neural Computation 2002; Dal Pozzolo et al., "Calibrating Probability with Undersampling for
   Unbalanced Classification", IEEE SSCI 2015 -- the same group's data).

Costs: a missed fraud costs its amount; each review (a flagged transaction, fraud or not) costs review_cost; a
reviewed fraud is stopped. Reported per 100,000 transactions at the real prevalence, with the weights above.
"""

import numpy as np

from src.ml.classical import DecisionTree

PER_TRANSACTIONS = 100_000


def normal_weight(n_fraud: int, n_normal: int, prevalence: float) -> float:
    """How many real normal transactions each sampled normal stands for, so the weighted fraud share is
    `prevalence`: n_fraud / (n_fraud + w * n_normal) = prevalence."""
    if not 0 < prevalence < 1:
        raise ValueError(f"prevalence must be in (0, 1), got {prevalence}")
    return n_fraud * (1 - prevalence) / (prevalence * n_normal)


def real_prevalence_weights(y, prevalence: float) -> np.ndarray:
    y = np.asarray(y)
    w = normal_weight(int((y == 1).sum()), int((y == 0).sum()), prevalence)
    return np.where(y == 1, 1.0, w)


def precision_at_prevalence(tpr, fpr, prevalence: float):
    """Precision a classifier with these rates has when a fraction `prevalence` of cases is positive."""
    tpr, fpr = np.asarray(tpr, dtype=float), np.asarray(fpr, dtype=float)
    flagged = prevalence * tpr + (1 - prevalence) * fpr
    return np.divide(prevalence * tpr, flagged, out=np.zeros_like(flagged), where=flagged > 0)


def prior_shift(proba, sample_prevalence: float, prevalence: float) -> np.ndarray:
    """Posterior probabilities moved from the training prevalence to another one (see the module docstring)."""
    p = np.asarray(proba, dtype=float)
    up = p * prevalence / sample_prevalence
    down = (1 - p) * (1 - prevalence) / (1 - sample_prevalence)
    return up / (up + down)


def rates(y, flagged):
    """(TPR, FPR) of a bool flag vector."""
    y, flagged = np.asarray(y), np.asarray(flagged, dtype=bool)
    return float(flagged[y == 1].mean()), float(flagged[y == 0].mean())


def policy_cost(y, flagged, amount, review_cost: float, weights) -> dict[str, float]:
    """Cost of a review policy per PER_TRANSACTIONS transactions at the weights' class mix: missed fraud amounts
    plus reviews. Also the recall, the reviews and the precision of the flags."""
    y, flagged = np.asarray(y), np.asarray(flagged, dtype=bool)
    amount, weights = np.asarray(amount, dtype=float), np.asarray(weights, dtype=float)
    scale = PER_TRANSACTIONS / weights.sum()
    missed = float(np.sum(amount[(y == 1) & ~flagged])) * scale
    reviews = float(np.sum(weights[flagged])) * scale
    caught = float(np.sum(weights[flagged & (y == 1)])) * scale
    return {
        "cost": missed + review_cost * reviews,
        "missed_fraud_amount": missed,
        "reviews": reviews,
        "recall": float(flagged[y == 1].mean()),
        "precision": caught / reviews if reviews else 0.0,
    }


def cost_curve(y, proba, amount, review_cost: float, weights, thresholds) -> list[dict]:
    return [
        {"threshold": float(t), **policy_cost(y, np.asarray(proba) >= t, amount, review_cost, weights)}
        for t in thresholds
    ]


def cross_fitted_threshold_cost(y, proba, amount, folds, review_cost: float, weights, thresholds) -> dict:
    """The flags when each fold's threshold is the cheapest on the other folds (an honest policy cost), and
    the cost of those flags."""
    y, proba = np.asarray(y), np.asarray(proba)
    amount, weights = np.asarray(amount, dtype=float), np.asarray(weights, dtype=float)
    flagged = np.zeros(len(y), dtype=bool)
    for k in range(int(folds.max()) + 1):
        others, this = folds != k, folds == k
        curve = cost_curve(y[others], proba[others], amount[others], review_cost, weights[others], thresholds)
        t = min(curve, key=lambda r: (r["cost"], -r["threshold"]))["threshold"]
        flagged[this] = proba[this] >= t
    return {"flagged": flagged, **policy_cost(y, flagged, amount, review_cost, weights)}


def rule_layer_pass(X, y, folds, max_depth: int, pass_below: float, sample_prevalence: float, prevalence: float):
    """The cheap first layer: a depth-`max_depth` decision tree (a handful of if-then rules on raw features)
    fitted on the training folds; a transaction whose rule leaf has a fraud probability (at the real prevalence)
    below `pass_below` is approved without calling the model. Returns a bool array: passed by the rules."""
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    passed = np.zeros(len(y), dtype=bool)
    for k in range(int(folds.max()) + 1):
        train, test = folds != k, folds == k
        rules = DecisionTree(max_depth=max_depth, min_samples_leaf=20, random_state=0)  # day 3's tree
        rules.fit(X[train], y[train])
        leaf_p = prior_shift(rules.predict_proba(X[test])[:, 1], sample_prevalence, prevalence)
        passed[test] = leaf_p < pass_below
    return passed
