"""Classical machine learning from scratch, with scikit-learn's interface (fit, predict, predict_proba, score,
get_params), each model held against its scikit-learn counterpart in tests/ml/ and in the day03 stage.

    from src.ml.classical import DecisionTree, RandomForest, SVM, NaiveBayes
    DecisionTree(max_depth=10).fit(X_train, y_train).score(X_test, y_test)

The algorithms: base (input checks, the estimator protocol), decision_tree, random_forest, svm, naive_bayes.
The harness the day-3 stage runs them in: comparison (each model next to scikit-learn's on the same folds),
experiments (the figures' data), benchmark (`make bench`), persistence (saving the fitted models).
"""

from src.ml.classical.base import NotFittedError
from src.ml.classical.decision_tree import DecisionTree
from src.ml.classical.naive_bayes import NaiveBayes
from src.ml.classical.random_forest import RandomForest
from src.ml.classical.svm import SVM

__all__ = ["DecisionTree", "NaiveBayes", "NotFittedError", "RandomForest", "SVM"]
