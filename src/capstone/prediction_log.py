"""The service's prediction log: what the monitor stage compares with the training data.

One JSON object per line, one line per classified issue:
    {"timestamp": "2026-11-27T10:00:00.123+00:00", "request_id": "...", "model_version": "3",
     "title": "...", "body": "...", "label": "bug", "proba_bug": 0.9, "proba_feature": 0.05, "proba_question": 0.05}
A line may also carry "feedback_label" (the true label, when someone supplied it); the monitor then reports
classification quality too.

The file rotates like logging's RotatingFileHandler: predictions.jsonl -> predictions.jsonl.1 -> ... when it
passes max_bytes, keeping `backups` old files, so a long-running service can't fill the disk. Each write appends
whole lines under a lock, so concurrent requests never interleave half lines.
"""

import json
import threading
from pathlib import Path

import pandas as pd

LOG_NAME = "predictions.jsonl"


class PredictionLog:
    def __init__(self, folder: str | Path, max_bytes: int = 50 * 2**20, backups: int = 5):
        if max_bytes <= 0 or backups < 0:
            raise ValueError(f"max_bytes must be > 0 and backups >= 0, got {max_bytes} and {backups}")
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / LOG_NAME
        self.max_bytes, self.backups = max_bytes, backups
        self._lock = threading.Lock()

    def write(self, records: list[dict]) -> None:
        lines = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
        with self._lock:
            if self.path.exists() and self.path.stat().st_size + len(lines.encode()) > self.max_bytes:
                self._rotate()
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(lines)

    def _rotate(self) -> None:
        for i in range(self.backups, 0, -1):
            older = self.folder / f"{LOG_NAME}.{i}"
            newer = self.folder / (f"{LOG_NAME}.{i - 1}" if i > 1 else LOG_NAME)
            if i == self.backups and older.exists():
                older.unlink()
            if newer.exists():
                newer.rename(older)
        if self.backups == 0:
            self.path.unlink(missing_ok=True)


def read_prediction_log(folder: str | Path) -> pd.DataFrame:
    """All logged predictions, oldest first (rotated files included). A truncated last line (the service was
    killed mid-write) is skipped, not fatal."""
    folder = Path(folder)
    files = sorted(folder.glob(f"{LOG_NAME}.*"), key=lambda p: -int(p.suffix[1:])) + [folder / LOG_NAME]
    records = []
    for path in files:
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    if not records:
        raise FileNotFoundError(
            f"no logged predictions in {folder}: send traffic to the service first "
            "(or run the replay), then run the monitor."
        )
    return pd.DataFrame.from_records(records)
