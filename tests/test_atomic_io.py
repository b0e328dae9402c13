"""A writer that fails leaves the previous file exactly as it was, and no temporary file behind."""

import json

import pytest

from src import atomic_io


def test_write_json_round_trip(tmp_path):
    path = atomic_io.write_json(tmp_path / "sub" / "m.json", {"b": 1, "a": 2})
    assert json.loads(path.read_text()) == {"a": 2, "b": 1}


def test_failed_write_keeps_old_content(tmp_path):
    target = tmp_path / "metrics.json"
    target.write_text("old")

    def half_write(tmp):
        tmp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_io.atomic_write(target, half_write)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]
