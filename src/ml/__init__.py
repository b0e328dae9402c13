"""Machine learning from scratch: `src.ml.classical` (day 3), later deep learning and vision."""
