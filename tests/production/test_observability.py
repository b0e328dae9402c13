"""The trace file's writer: JSON lines, rotated like the prediction log."""

import json

from src.production.observability import RotatingLines


def test_lines_are_appended_whole_and_the_file_rotates(tmp_path):
    path = tmp_path / "traces.jsonl"
    out = RotatingLines(str(path), max_bytes=200, backups=2)
    for i in range(30):
        out.write(json.dumps({"span": i, "pad": "x" * 20}) + "\n")
    out.flush()
    files = sorted(tmp_path.iterdir())
    assert [f.name for f in files] == ["traces.jsonl", "traces.jsonl.1", "traces.jsonl.2"]  # older ones dropped
    assert all(f.stat().st_size <= 200 for f in files)
    newest_first = [[json.loads(line)["span"] for line in f.read_text().splitlines()] for f in files]
    assert newest_first[0][-1] == 29 and newest_first[1][-1] == newest_first[0][0] - 1  # whole lines, in order
