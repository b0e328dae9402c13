"""The one check every from-scratch routine makes on its input: are all the numbers finite?

A NaN or an infinity poisons every sum it enters, so the routines refuse it at the door, saying how many there
are, where the first one is, and what to do, instead of returning NaNs (or a wrong answer) three calls later.
Used by day 1's linear algebra and calculus (src/core) and day 3's classical models (src/ml/classical/base.py).
"""

import numpy as np


def _position(index: tuple[int, ...]) -> str:
    if len(index) == 1:
        return f"index {index[0]}"
    if len(index) == 2:
        return f"row {index[0]}, column {index[1]}"
    return f"position {index}"


def require_finite(values: np.ndarray, name: str, what_to_do: str = "remove or impute those entries first") -> None:
    """Raise ValueError naming `name`, the count of NaN/inf entries and where the first one is, unless every
    entry of `values` (a numeric array) is finite."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    kind = "NaN" if np.isnan(values[first]) else "inf"
    where = f", the first ({kind}) at {_position(first)}" if values.ndim else f" ({kind})"
    raise ValueError(f"{name} contains {int(bad.sum())} NaN/inf value(s){where}: {what_to_do}.")
