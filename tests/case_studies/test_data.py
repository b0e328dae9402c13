"""The case-study loaders: the embedded tables as SOURCES.md describes them, and bad CSVs refused naming the column."""

import pytest

from src.case_studies import data
from src.data.checksums import verified_path


def test_churn_table_is_the_documented_one():
    frame = data.load_churn()
    assert len(frame) == 7043 and frame["customerID"].is_unique
    assert int(frame["churned"].sum()) == 1869
    blank = frame["TotalCharges"].isna()
    assert int(blank.sum()) == 11 and (frame.loc[blank, "tenure"] == 0).all()


def test_fraud_table_is_the_documented_sample():
    frame = data.load_fraud()
    assert len(frame) == 2492 and int(frame["Class"].sum()) == 492
    assert abs(frame.loc[frame["Class"] == 1, "Amount"].mean() - 122.211) < 1e-3  # the published mean of all frauds


@pytest.fixture
def churn_csv(tmp_path):
    text = verified_path(data.CHURN_FILE).read_text().splitlines()
    return tmp_path, text[0].split(","), text[1:40]


def _write(tmp_path, header, rows, name="bad.csv"):
    path = tmp_path / name
    path.write_text("\n".join([",".join(header), *rows]) + "\n")
    return path


def test_missing_column_is_named(churn_csv):
    tmp_path, header, rows = churn_csv
    keep = [i for i, h in enumerate(header) if h != "MonthlyCharges"]
    path = _write(tmp_path, [header[i] for i in keep], [",".join(r.split(",")[i] for i in keep) for r in rows])
    with pytest.raises(data.TableSchemaError, match=r"missing column\(s\) \['MonthlyCharges'\]"):
        data.read_churn(path)


def test_renamed_column_is_named_with_the_likely_rename(churn_csv):
    tmp_path, header, rows = churn_csv
    header = ["Tenure_Months" if h == "tenure" else h for h in header]
    with pytest.raises(data.TableSchemaError, match=r"\['tenure'\].*renamed\?\): \['Tenure_Months'\]"):
        data.read_churn(_write(tmp_path, header, rows))


def test_non_numeric_value_is_named_with_its_row(churn_csv):
    tmp_path, header, rows = churn_csv
    col = header.index("MonthlyCharges")
    cells = rows[4].split(",")
    cells[col] = "about fifty"
    rows[4] = ",".join(cells)
    with pytest.raises(data.TableSchemaError, match=r"column 'MonthlyCharges' must be numeric.*row 5: 'about fifty'"):
        data.read_churn(_write(tmp_path, header, rows))


def test_blank_is_allowed_only_in_total_charges(churn_csv):
    tmp_path, header, rows = churn_csv
    col = header.index("tenure")
    cells = rows[2].split(",")
    cells[col] = " "
    rows[2] = ",".join(cells)
    with pytest.raises(data.TableSchemaError, match="column 'tenure' has 1 blank"):
        data.read_churn(_write(tmp_path, header, rows))


def test_unknown_target_value_is_named(churn_csv):
    tmp_path, header, rows = churn_csv
    rows[0] = rows[0].rsplit(",", 1)[0] + ",Maybe"
    with pytest.raises(data.TableSchemaError, match="column 'Churn' holds \\['Maybe'\\]"):
        data.read_churn(_write(tmp_path, header, rows))


def test_fraud_non_numeric_and_missing_columns_are_named(tmp_path):
    text = verified_path(data.FRAUD_FILE).read_text().splitlines()
    header, rows = text[0].split(","), text[1:30]
    cells = rows[3].split(",")
    cells[header.index("V14")] = "n/a"
    rows[3] = ",".join(cells)
    with pytest.raises(data.TableSchemaError, match="column 'V14' must be numeric"):
        data.read_fraud(_write(tmp_path, header, rows))
    renamed = ["amount" if h == "Amount" else h for h in header]
    with pytest.raises(data.TableSchemaError, match=r"\['Amount'\].*\['amount'\]"):
        data.read_fraud(_write(tmp_path, renamed, text[1:30], "renamed.csv"))
