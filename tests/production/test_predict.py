"""predict_by_arm: each issue answered by its arm's model, in the request's order, one model call per arm."""

import pandas as pd
import pytest

from src.capstone.data import LABELS
from src.production.predict import predict_by_arm


class FixedModel:
    """A pyfunc stand-in that answers `label` with certainty and counts its calls."""

    def __init__(self, label):
        self.label, self.calls = label, 0

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        self.calls += 1
        return pd.DataFrame(
            {
                "label": [self.label] * len(frame),
                **{f"proba_{x}": [float(x == self.label)] * len(frame) for x in LABELS},
            }
        )


def test_each_issue_goes_to_its_arm_in_order_with_one_call_per_arm():
    champion, challenger = FixedModel("bug"), FixedModel("question")
    models = {"champion": (champion, "3"), "challenger": (challenger, "4")}
    arms = ["champion", "challenger", "challenger", "champion", "champion"]
    issues = [{"title": f"t{i}", "body": "", "arm": arm} for i, arm in enumerate(arms)]
    answers = predict_by_arm(models, issues)
    assert [a["arm"] for a in answers] == arms
    assert [a["label"] for a in answers] == ["bug" if arm == "champion" else "question" for arm in arms]
    assert [a["model_version"] for a in answers] == ["3" if arm == "champion" else "4" for arm in arms]
    assert champion.calls == challenger.calls == 1


def test_an_arm_without_a_model_is_refused():
    with pytest.raises(ValueError, match="challenger"):
        predict_by_arm({"champion": (FixedModel("bug"), "3")}, [{"title": "t", "body": "", "arm": "challenger"}])
