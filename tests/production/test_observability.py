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


def test_a_span_line_keeps_what_tells_spans_apart_and_parses_back():
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from src.production.observability import span_to_json_line

    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "issue_classifier"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("POST /classify", attributes={"http.route": "/classify"}) as outer:
        with tracer.start_as_current_span("model") as inner:
            inner.add_event("retry", {"attempt": 2})
    model, request = (json.loads(span_to_json_line(span)) for span in exporter.get_finished_spans())
    assert model["parent_id"] == request["context"]["span_id"] == f"0x{outer.get_span_context().span_id:016x}"
    assert model["context"]["trace_id"] == request["context"]["trace_id"]
    assert request["attributes"] == {"http.route": "/classify"} and request["end_time"] >= request["start_time"]
    assert model["events"][0]["name"] == "retry" and model["events"][0]["attempt"] == 2
    assert "resource" not in request  # the same for every span: left out, it was most of the cost
