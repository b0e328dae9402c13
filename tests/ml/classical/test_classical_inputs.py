"""What every classical model does with bad input, and the scikit-learn-like interface they share."""

import numpy as np
import pytest
from sklearn.datasets import load_iris

from src.ml.classical import SVM, DecisionTree, NaiveBayes, RandomForest

MODELS = [DecisionTree, lambda: RandomForest(n_estimators=5), SVM, NaiveBayes]
X, y = load_iris(return_X_y=True)


@pytest.mark.parametrize("make", MODELS)
@pytest.mark.parametrize(("bad", "kind"), [(np.nan, "NaN"), (np.inf, "inf")])
def test_nan_or_inf_in_X_is_refused_with_its_position(make, bad, kind):
    X_bad = X.copy()
    X_bad[7, 2] = bad
    with pytest.raises(ValueError, match=rf"NaN/inf.*\({kind}\) at row 7, column 2"):
        make().fit(X_bad, y)
    fitted = make().fit(X, y)
    with pytest.raises(ValueError, match="row 7, column 2"):
        fitted.predict(X_bad)


@pytest.mark.parametrize("make", MODELS)
def test_mismatched_lengths_and_shapes_are_refused(make):
    with pytest.raises(ValueError, match="150 samples but 149 labels"):
        make().fit(X, y[:-1])
    with pytest.raises(ValueError, match="must be 2-D"):
        make().fit(X[:, 0], y)
    with pytest.raises(ValueError, match="has 3 features but the model was fitted on 4"):
        make().fit(X, y).predict(X[:, :3])


@pytest.mark.parametrize("make", MODELS)
def test_labels_of_any_type_come_back_as_given(make):
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    model = make().fit(X, names)
    assert set(model.predict(X)) <= set(names)
    assert model.score(X, names) > 0.9


def test_get_params_and_set_params_follow_sklearn_conventions():
    tree = DecisionTree(max_depth=3)
    assert tree.get_params()["max_depth"] == 3
    assert tree.set_params(max_depth=5, criterion="entropy").get_params()["criterion"] == "entropy"
    with pytest.raises(ValueError, match="no parameter 'depth'"):
        tree.set_params(depth=2)
    assert "DecisionTree(criterion='entropy'" in repr(tree)


@pytest.mark.parametrize("make", [DecisionTree, lambda: RandomForest(n_estimators=5), NaiveBayes])
def test_one_class_is_learned_as_that_class(make):
    model = make().fit(X, np.full(len(X), "only"))
    assert (model.predict(X) == "only").all()
    np.testing.assert_allclose(model.predict_proba(X), 1.0)


def test_one_class_is_an_error_for_the_svm_which_needs_two_sides():
    with pytest.raises(ValueError, match=r"at least 2 classes in y, got only \['only'\]"):
        SVM().fit(X, np.full(len(X), "only"))
