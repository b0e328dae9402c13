"""The shared finiteness check: silent on finite input, and otherwise says how many, where, and what to do."""

import numpy as np
import pytest

from src.core.checks import require_finite


def test_finite_input_passes():
    require_finite(np.arange(6.0).reshape(2, 3), "A")
    require_finite(np.float64(3.0), "x")


@pytest.mark.parametrize(
    ("values", "where"),
    [
        (np.array([1.0, np.inf, np.nan]), r"2 NaN/inf value\(s\), the first \(inf\) at index 1"),
        (np.array([[1.0, 2.0], [3.0, np.nan]]), r"1 NaN/inf value\(s\), the first \(NaN\) at row 1, column 1"),
        (np.full((2, 2, 2), np.nan), r"8 NaN/inf value\(s\), the first \(NaN\) at position \(0, 0, 0\)"),
        (np.float64(np.nan), r"1 NaN/inf value\(s\) \(NaN\)"),
    ],
)
def test_bad_values_are_counted_located_and_named(values, where):
    with pytest.raises(ValueError, match=rf"^B contains {where}: drop them\.$"):
        require_finite(values, "B", "drop them")
