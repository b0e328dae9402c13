"""The data behind day 3's figures, each computed for our model and scikit-learn's side by side."""

import numpy as np
from sklearn.model_selection import train_test_split

from src.ml.classical import SVM, DecisionTree, RandomForest
from src.ml.classical.comparison import IMPLEMENTATIONS, build_model, standardise
from src.ml.classical.decision_tree import CRITERIA
from src.ml.classical.random_forest import out_of_bag_votes


def holdout(X, y, seed: int, test_size: float):
    """A stratified train/test split: (X_train, X_test, y_train, y_test)."""
    return train_test_split(X, y, test_size=test_size, stratify=y, random_state=seed)


def depth_sweep(X, y, max_depth: int, test_size: float, seed: int) -> list[dict]:
    """Train and test accuracy by max_depth (bias falls, variance rises), for every criterion from scratch and
    for scikit-learn's gini and entropy trees."""
    X_train, X_test, y_train, y_test = holdout(X, y, seed, test_size)
    rows = []
    for depth in range(1, max_depth + 1):
        row = {"depth": depth}
        for criterion in CRITERIA:
            tree = DecisionTree(criterion=criterion, max_depth=depth, random_state=seed).fit(X_train, y_train)
            row[f"scratch_{criterion}_train"] = tree.score(X_train, y_train)
            row[f"scratch_{criterion}_test"] = tree.score(X_test, y_test)
        for criterion in ("gini", "entropy"):
            params = {"criterion": criterion, "max_depth": depth}
            tree = build_model("decision_tree", "sklearn", params, len(np.unique(y)), seed).fit(X_train, y_train)
            row[f"sklearn_{criterion}_train"] = tree.score(X_train, y_train)
            row[f"sklearn_{criterion}_test"] = tree.score(X_test, y_test)
        rows.append(row)
    return rows


def oob_error_curves(X, y, params: dict, n_trees: int, seed: int) -> list[dict]:
    """OOB error of the first 1..n_trees trees of one forest each way. scikit-learn's curve is computed the same
    way from its trees and their bootstrap samples (estimators_samples_)."""
    params = {**params, "n_estimators": n_trees}
    ours = RandomForest(**params, random_state=seed).fit(X, y)
    theirs = build_model("random_forest", "sklearn", params, len(np.unique(y)), seed).fit(X, y)
    trees = (
        (tree.predict_proba, ~np.isin(np.arange(len(X)), drawn))
        for tree, drawn in zip(theirs.estimators_, theirs.estimators_samples_, strict=True)
    )
    _, sklearn_errors = out_of_bag_votes(X, np.searchsorted(theirs.classes_, y), len(theirs.classes_), trees)
    scratch_errors = ours.oob_error_curve(X, y)
    return [
        {"n_trees": i + 1, "scratch": float(a), "sklearn": b}
        for i, (a, b) in enumerate(zip(scratch_errors, sklearn_errors, strict=True))
    ]


def project_2d(X) -> np.ndarray:
    """Standardise, then project on the first two principal components (the SVD of the centred data)."""
    Z, _ = standardise(X, X[:1])
    _, _, Vt = np.linalg.svd(Z - Z.mean(axis=0), full_matrices=False)
    return Z @ Vt[:2].T


def decision_regions(X2, y, models: dict[str, dict], grid_size: int, seed: int) -> dict:
    """Fit every model both ways on the 2-D projection; predict on a grid covering it.
    Returns {"points", "xx", "yy", "regions": {(model, implementation): grid labels}, "accuracy": {...}}."""
    pad = 0.5
    xs = np.linspace(X2[:, 0].min() - pad, X2[:, 0].max() + pad, grid_size)
    ys = np.linspace(X2[:, 1].min() - pad, X2[:, 1].max() + pad, grid_size)
    xx, yy = np.meshgrid(xs, ys)
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    regions, accuracy = {}, {}
    for model, params in models.items():
        for implementation in IMPLEMENTATIONS:
            estimator = build_model(model, implementation, params, len(np.unique(y)), seed).fit(X2, y)
            regions[(model, implementation)] = estimator.predict(grid).reshape(xx.shape)
            accuracy[(model, implementation)] = float(np.mean(estimator.predict(X2) == y))
    return {"points": X2, "xx": xx, "yy": yy, "regions": regions, "accuracy": accuracy}


def svm_margins(X2, y, C: float) -> dict:
    """A linear SVM both ways on a two-class 2-D problem: w, b, the support vectors and the dual objective."""
    from sklearn.svm import SVC

    from src.ml.classical.svm import kernel_matrix

    ours = SVM(kernel="linear", C=C).fit(X2, y)
    theirs = SVC(kernel="linear", C=C).fit(X2, y)
    machine = ours.machines_[0]
    coef = theirs.dual_coef_[0]
    K = kernel_matrix(theirs.support_vectors_, theirs.support_vectors_, "linear", 1.0, 1, 0.0)
    return {
        "scratch": {
            "w": machine["dual_coef"] @ machine["support_vectors"],
            "b": machine["intercept"],
            "support_vectors": machine["support_vectors"],
            "dual_objective": machine["dual_objective"],
        },
        "sklearn": {
            "w": theirs.coef_[0],
            "b": float(theirs.intercept_[0]),
            "support_vectors": theirs.support_vectors_,
            "dual_objective": float(np.abs(coef).sum() - 0.5 * coef @ K @ coef),
        },
    }


def margin_differences(margins: dict) -> dict[str, float]:
    """How far our linear SVM is from scikit-learn's (svm_margins' result): the dual objectives and the weights."""
    scratch, sklearn = margins["scratch"], margins["sklearn"]
    return {
        "dual_objective_abs_diff": abs(scratch["dual_objective"] - sklearn["dual_objective"]),
        "weights_max_abs_diff": float(np.abs(scratch["w"] - sklearn["w"]).max()),
    }
