"""A random forest from scratch: bagged decision trees that also draw features at random at every split.

    forest = RandomForest(n_estimators=100, oob_score=True, random_state=0).fit(X, y)
    forest.predict(X_test); forest.oob_score_; forest.oob_error_curve()

Bagging: each tree fits a bootstrap sample (n draws with replacement). Drawn samples enter the tree with a
weight equal to how often they were drawn (equivalent to duplicating them, cheaper); about a third of the samples
(1 - 1/e) are never drawn: they are that tree's out-of-bag (OOB) samples, an honest validation set for free.
Averaging B trees whose errors are correlated by rho shrinks the variance sigma^2 to rho sigma^2 + (1-rho)/B
sigma^2; drawing max_features features per split lowers rho, which is why a forest beats plain bagging.
The forest predicts the class with the largest mean predicted probability (soft voting, as scikit-learn).
The time goes where the tree's goes (see decision_tree.py), times n_estimators; with few samples per node the
per-node Python and NumPy call overhead dominates, which is why the ratio grows with the tree size (digits).
"""

import numpy as np

from src.ml.classical.base import Classifier, check_X, check_X_y
from src.ml.classical.decision_tree import DecisionTree


def _fit_one_tree(params: dict, X, y, seed: int):
    """One tree on one bootstrap sample; returns (tree, bootstrap counts). A module-level function so that
    joblib can ship it to worker processes."""
    rng = np.random.default_rng(seed)
    counts = np.bincount(rng.integers(0, len(X), len(X)), minlength=len(X))
    drawn = counts > 0
    tree = DecisionTree(**params, random_state=seed).fit(X[drawn], y[drawn], sample_weight=counts[drawn])
    return tree, counts


def out_of_bag_votes(X, encoded, n_classes: int, trees) -> tuple[np.ndarray, np.ndarray]:
    """Soft OOB votes of a forest, one tree at a time. `trees` yields (predict_proba, out_of_bag mask) per tree,
    predict_proba giving probabilities over all n_classes; `encoded` are the labels as indices 0..n_classes-1.
    Returns (votes (n_samples, n_classes): the summed probabilities each sample got from the trees that left
    it out of bag, OOB error of the first 1, 2, ..., B trees). A sample no tree so far left out is not counted
    in that error yet (scikit-learn warns about such samples instead)."""
    votes = np.zeros((len(X), n_classes))
    errors = []
    for predict_proba, out in trees:
        votes[out] += predict_proba(X[out])
        seen = votes.sum(axis=1) > 0
        errors.append(float(np.mean(votes[seen].argmax(axis=1) != encoded[seen])))
    return votes, np.array(errors)


class RandomForest(Classifier):
    """Bootstrap + per-split feature subsampling + soft voting.

    max_features: features per split ('sqrt' by default, as scikit-learn's classifier; None = plain bagging).
    bootstrap=False fits every tree on all samples (only the feature draws then differ between trees).
    oob_score: compute oob_score_ (accuracy on out-of-bag samples) and oob_decision_function_.
    n_jobs: trees fitted in parallel worker processes with joblib (None or 1: one after another); results are
    identical either way, since every tree's seed is drawn up front.
    """

    def __init__(
        self,
        n_estimators: int = 100,
        criterion: str = "gini",
        max_depth: int | None = None,
        min_samples_split: int = 2,
        min_samples_leaf: int = 1,
        max_features="sqrt",
        bootstrap: bool = True,
        oob_score: bool = False,
        n_jobs: int | None = None,
        random_state: int | None = None,
    ):
        self.n_estimators = n_estimators
        self.criterion = criterion
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.bootstrap = bootstrap
        self.oob_score = oob_score
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, X, y) -> "RandomForest":
        X, y = check_X_y(X, y)
        if self.n_estimators < 1:
            raise ValueError(f"n_estimators must be >= 1, got {self.n_estimators}")
        if self.oob_score and not self.bootstrap:
            raise ValueError("oob_score=True needs bootstrap=True: without bootstrap no sample is out of bag")
        encoded = self._encode_labels(y)
        self.n_features_in_ = X.shape[1]
        tree_params = {
            "criterion": self.criterion,
            "max_depth": self.max_depth,
            "min_samples_split": self.min_samples_split,
            "min_samples_leaf": self.min_samples_leaf,
            "max_features": self.max_features,
        }
        seeds = np.random.default_rng(self.random_state).integers(0, 2**31 - 1, self.n_estimators)
        if self.bootstrap:
            fitted = self._map(_fit_one_tree, [(tree_params, X, encoded, int(s)) for s in seeds])
        else:
            fitted = [(DecisionTree(**tree_params, random_state=int(s)).fit(X, encoded), None) for s in seeds]
        self.estimators_ = [tree for tree, _ in fitted]
        self.bootstrap_counts_ = [counts for _, counts in fitted]
        if self.oob_score:
            self._compute_oob(X, encoded)
        return self

    def _map(self, function, arguments: list[tuple]) -> list:
        if self.n_jobs in (None, 1):
            return [function(*args) for args in arguments]
        from joblib import Parallel, delayed

        return Parallel(n_jobs=self.n_jobs)(delayed(function)(*args) for args in arguments)

    def _tree_probabilities(self, tree: DecisionTree, X) -> np.ndarray:
        """A tree's probabilities over all of the forest's classes (a bootstrap sample may miss a class)."""
        proba = np.zeros((len(X), len(self.classes_)))
        proba[:, tree.classes_] = tree.predict_proba(X)  # the tree was fitted on encoded labels 0..k-1
        return proba

    def _out_of_bag_votes(self, X, encoded) -> tuple[np.ndarray, np.ndarray]:
        trees = (
            (lambda Z, tree=tree: self._tree_probabilities(tree, Z), counts == 0)
            for tree, counts in zip(self.estimators_, self.bootstrap_counts_, strict=True)
        )
        return out_of_bag_votes(X, encoded, len(self.classes_), trees)

    def _compute_oob(self, X, encoded):
        votes, _ = self._out_of_bag_votes(X, encoded)
        seen = votes.sum(axis=1) > 0
        if not seen.all():
            raise ValueError(
                f"{int((~seen).sum())} samples were in every bootstrap sample, so they have no OOB prediction: "
                "use more trees (n_estimators) for a meaningful oob_score_"
            )
        self.oob_decision_function_ = votes / votes.sum(axis=1, keepdims=True)
        self.oob_score_ = float(np.mean(self.oob_decision_function_.argmax(axis=1) == encoded))

    def oob_error_curve(self, X, y) -> np.ndarray:
        """OOB error of the forest's first 1, 2, ..., B trees (X, y: the training data). Samples that no tree so
        far left out of bag are not counted yet (scikit-learn warns about them instead)."""
        self._check_fitted("estimators_")
        if not self.bootstrap:
            raise ValueError("no OOB samples without bootstrap=True")
        X, y = check_X_y(X, y)
        return self._out_of_bag_votes(X, np.searchsorted(self.classes_, y))[1]

    def predict_proba(self, X) -> np.ndarray:
        """The mean of the trees' class probabilities (soft voting)."""
        self._check_fitted("estimators_")
        X = check_X(X, self.n_features_in_)
        return sum(self._tree_probabilities(tree, X) for tree in self.estimators_) / len(self.estimators_)

    def predict(self, X) -> np.ndarray:
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    @property
    def feature_importances_(self) -> np.ndarray:
        """The trees' mean-decrease-in-impurity importances, averaged."""
        self._check_fitted("estimators_")
        return np.mean([tree.feature_importances_ for tree in self.estimators_], axis=0)
