"""The two sides of a drift comparison, read into one table shape.

Both the training reference (`reports/day10_capstone/reference_predictions.csv`) and the service's prediction log
(`src/capstone/prediction_log.py`) become a DataFrame with the columns

    title, body            what the user sent
    prediction             the model's label
    proba_bug, ...         the model's class probabilities (PROBA_COLUMNS)
    target                 the true label where known (the reference always; the log where feedback was given)

so the report code never has to know where a table came from.
"""

from pathlib import Path

import pandas as pd

from src.capstone.data import LABELS, load_issues
from src.capstone.model import PROBA_COLUMNS
from src.capstone.prediction_log import LOG_NAME, read_prediction_log

TEXT_COLUMNS = ["title", "body"]
MODEL_COLUMNS = ["prediction", *PROBA_COLUMNS]
COLUMNS = [*TEXT_COLUMNS, *MODEL_COLUMNS, "target"]


class TrafficError(ValueError):
    """The logged traffic can't be monitored as it is; the message says why and what to do."""


def load_reference(path: str | Path) -> pd.DataFrame:
    """The training issues with their out-of-fold predictions, as written by the day10_capstone stage.
    Keeps `repo` and `label` too: the replay splits the reference by them."""
    issues = load_issues(path)  # checks the columns, the labels and that no issue is empty
    missing = [column for column in MODEL_COLUMNS if column not in issues.columns]
    if missing:
        raise TrafficError(
            f"{path} lacks the prediction column(s) {missing}: it must be the reference_predictions.csv the "
            "day10_capstone stage writes (run `dvc repro day10_capstone`)."
        )
    frame = issues.assign(target=issues["label"])
    frame[PROBA_COLUMNS] = frame[PROBA_COLUMNS].astype(float)
    return frame


def load_traffic(folder: str | Path) -> pd.DataFrame:
    """The service's prediction log (rotated files included) in the common shape. A missing or empty folder,
    or a log that is not the service's format, fails with a message naming the folder and the fix."""
    folder = Path(folder)
    if not folder.is_dir():
        raise TrafficError(
            f"prediction log folder {folder} does not exist. Start the service (it writes {LOG_NAME} there) and "
            "send it some requests, or point monitor.live_log_dir at the folder your service logs to."
        )
    try:
        log = read_prediction_log(folder)
    except FileNotFoundError as error:
        raise TrafficError(str(error)) from None
    missing = [column for column in [*TEXT_COLUMNS, "label", *PROBA_COLUMNS] if column not in log.columns]
    if missing:
        raise TrafficError(
            f"the prediction log in {folder} lacks the field(s) {missing}; each line must be a record as "
            "src/capstone/prediction_log.py describes (title, body, label, proba_<label>, ...)."
        )
    frame = log.rename(columns={"label": "prediction"})
    frame["target"] = log["feedback_label"] if "feedback_label" in log.columns else None
    unknown = sorted(set(frame["target"].dropna()) - set(LABELS))
    if unknown:
        raise TrafficError(f"the log in {folder} has feedback labels {unknown[:5]}; they must be one of {LABELS}.")
    frame[TEXT_COLUMNS] = frame[TEXT_COLUMNS].fillna("").astype(str)
    frame[PROBA_COLUMNS] = frame[PROBA_COLUMNS].astype(float)
    extra = [column for column in ("model_version", "timestamp") if column in frame.columns]
    return frame[COLUMNS + extra].reset_index(drop=True)
