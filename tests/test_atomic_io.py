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


def test_files_get_the_umask_mode_not_mkstemps_0600(tmp_path):
    """Reports must be readable by the other users of a shared machine (mkstemp alone gives 0600)."""
    import os

    old = os.umask(0o022)
    try:
        path = atomic_io.write_text(tmp_path / "report.txt", "x")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_orphaned_temporaries_of_dead_processes_are_removed(tmp_path):
    import os
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()  # a pid that has exited (and been reaped)
    orphan = tmp_path / "figures" / f".curve.png.{dead.pid}.abc123.tmp"
    mine = tmp_path / f".metrics.json.{os.getpid()}.def456.tmp"
    orphan.parent.mkdir()
    orphan.write_bytes(b"")
    mine.write_bytes(b"")
    assert atomic_io.remove_orphaned_temporaries(tmp_path) == [orphan]
    assert not orphan.exists() and mine.exists()  # a live writer's file is left alone
