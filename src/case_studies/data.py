"""The two case-study tables, checked before any model sees them.

    from src.case_studies.data import load_churn, load_fraud
    churn = load_churn()     # Telco churn, 7,043 customers (data/raw/churn/, SOURCES.md section 5)
    fraud = load_fraud()     # ULB card fraud: all 492 frauds + 2,000 normal (SOURCES.md section 6)

Each loader verifies the embedded file's sha256 (src/data/checksums.py), then its schema: every expected column
present, and numeric columns numeric. A missing or renamed column, or text where a number belongs, raises a
`TableSchemaError` that names the file and the column (and the first offending row), so a changed export fails
at load time, not as a shape error three functions later.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from src.data.checksums import verified_path

CHURN_FILE = "churn/Telco-Customer-Churn.csv"
FRAUD_FILE = "fraud/creditcard_sample.csv"

CHURN_ID = "customerID"
CHURN_TARGET = "Churn"
CHURN_NUMERIC = ("SeniorCitizen", "tenure", "MonthlyCharges", "TotalCharges")
CHURN_ADD_ON_SERVICES = (
    "OnlineSecurity",
    "OnlineBackup",
    "DeviceProtection",
    "TechSupport",
    "StreamingTV",
    "StreamingMovies",
)
CHURN_CATEGORICAL = (
    "gender",
    "Partner",
    "Dependents",
    "PhoneService",
    "MultipleLines",
    "InternetService",
    *CHURN_ADD_ON_SERVICES,
    "Contract",
    "PaperlessBilling",
    "PaymentMethod",
)
# TotalCharges is blank (a single space) for customers in their first month: they have not been billed yet.
BLANK_ALLOWED = ("TotalCharges",)

FRAUD_TARGET = "Class"
FRAUD_AMOUNT = "Amount"
FRAUD_NUMERIC = ("Time", *(f"V{i}" for i in range(1, 29)), FRAUD_AMOUNT)


class TableSchemaError(ValueError):
    """A case-study table lacks a column or holds a value of the wrong kind; the message names the column."""


def check_columns(frame: pd.DataFrame, expected, source: str) -> None:
    """Every expected column present; a missing one is named, with the columns that are there but unexpected
    (the likely rename)."""
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        extra = [c for c in frame.columns if c not in expected]
        hint = f"; columns not expected (renamed?): {extra}" if extra else ""
        raise TableSchemaError(f"{source}: missing column(s) {missing}{hint}. Expected columns: {list(expected)}")


def to_numeric(frame: pd.DataFrame, columns, source: str, blank_allowed=()) -> pd.DataFrame:
    """Columns converted to float. Text that is not a number raises naming the column, the row and the value;
    blank cells (empty or spaces) become NaN only in the columns listed in `blank_allowed`."""
    out = frame.copy()
    for column in columns:
        raw = out[column]
        text = raw.astype(str).str.strip()
        blank = raw.isna() | (text == "")
        values = pd.to_numeric(text.where(~blank), errors="coerce")
        bad = values.isna() & ~blank
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise TableSchemaError(
                f"{source}: column '{column}' must be numeric, but {int(bad.sum())} value(s) are not; the first at "
                f"data row {row + 1}: {raw.iloc[row]!r}"
            )
        if blank.any() and column not in blank_allowed:
            row = int(np.flatnonzero(blank.to_numpy())[0])
            raise TableSchemaError(
                f"{source}: column '{column}' has {int(blank.sum())} blank value(s), e.g. row {row + 1}"
            )
        out[column] = values.astype(float)
    return out


def check_binary(values: pd.Series, column: str, source: str, allowed: tuple) -> None:
    unknown = sorted(set(values.unique()) - set(allowed), key=str)
    if unknown:
        raise TableSchemaError(f"{source}: column '{column}' holds {unknown}; expected only {list(allowed)}")


def read_churn(path: Path) -> pd.DataFrame:
    """The churn table from a CSV, schema-checked: numeric columns as float (TotalCharges blanks as NaN, left
    for the preprocessing to decide), Churn as 0/1 in `churned`."""
    source = str(path)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    check_columns(frame, (CHURN_ID, *CHURN_CATEGORICAL, *CHURN_NUMERIC, CHURN_TARGET), source)
    frame = to_numeric(frame, CHURN_NUMERIC, source, blank_allowed=BLANK_ALLOWED)
    check_binary(frame[CHURN_TARGET], CHURN_TARGET, source, ("No", "Yes"))
    if frame[CHURN_ID].duplicated().any():
        raise TableSchemaError(f"{source}: column '{CHURN_ID}' has duplicate customers")
    frame["churned"] = (frame[CHURN_TARGET] == "Yes").astype(int)
    return frame


def read_fraud(path: Path) -> pd.DataFrame:
    """The fraud table from a CSV, schema-checked: every feature and Amount numeric, Class 0/1."""
    source = str(path)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    check_columns(frame, (*FRAUD_NUMERIC, FRAUD_TARGET), source)
    frame = to_numeric(frame, (*FRAUD_NUMERIC, FRAUD_TARGET), source)
    check_binary(frame[FRAUD_TARGET], FRAUD_TARGET, source, (0.0, 1.0))
    if (frame[FRAUD_AMOUNT] < 0).any():
        raise TableSchemaError(f"{source}: column '{FRAUD_AMOUNT}' has negative amounts")
    frame[FRAUD_TARGET] = frame[FRAUD_TARGET].astype(int)
    return frame


def load_churn() -> pd.DataFrame:
    return read_churn(verified_path(CHURN_FILE))


def load_fraud() -> pd.DataFrame:
    return read_fraud(verified_path(FRAUD_FILE))
