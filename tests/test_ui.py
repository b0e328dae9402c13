"""`make ui`'s server: on 127.0.0.1, its REST API lists a stage's experiment, runs, params, metrics, PNGs."""

import json
import os
import urllib.request

import matplotlib.pyplot as plt
import pytest
from omegaconf import OmegaConf

from src import ui
from src.production.server_process import free_port, wait_until_ready
from src.tracking import StageRun

pytestmark = pytest.mark.slow


def _get(url: str, body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read()


def test_ui_serves_experiment_runs_and_figures(tracking_store, tmp_path):
    cfg = OmegaConf.create({"seed": 0, "profile": {"name": "smoke", "device": "cpu"}, "dayx": {"lr": 0.5}})
    with StageRun("dayx_ui", cfg, section="dayx") as run:
        run.log_series("loss", [2.0, 1.0], variant="scratch")
        fig, ax = plt.subplots()
        ax.plot([0, 1])
        run.log_figure(fig, "curve")

    port = free_port()
    pid_file = tmp_path / "ui.pid"
    process = ui.start(port, store=tracking_store, pid_file=pid_file, log_file=tmp_path / "ui.log")
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(f"{url}/health", process, timeout=90)
        experiments = json.loads(_get(f"{url}/api/2.0/mlflow/experiments/search?max_results=50"))
        exp = next(e for e in experiments["experiments"] if e["name"] == "dayx-ui")
        runs = json.loads(_get(f"{url}/api/2.0/mlflow/runs/search", {"experiment_ids": [exp["experiment_id"]]}))
        parent = next(r for r in runs["runs"] if r["info"]["run_name"] == "dayx_ui")
        assert {"key": "dayx.lr", "value": "0.5"} in parent["data"]["params"]
        run_id = parent["info"]["run_id"]
        listing = json.loads(_get(f"{url}/api/2.0/mlflow/artifacts/list?run_id={run_id}&path=figures"))
        assert [f["path"] for f in listing["files"]] == ["figures/curve.png"]
        png = _get(f"{url}/get-artifact?path=figures/curve.png&run_uuid={run_id}")
        assert png[:4] == b"\x89PNG"
    finally:
        assert ui.stop(pid_file)
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)  # stop returned once the whole group (the UI's workers too) was gone
    assert not ui.stop(pid_file)  # a second stop finds nothing to stop
