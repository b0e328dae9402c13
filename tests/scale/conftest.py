"""One real tracking server (PostgreSQL + `mlflow server`, on 127.0.0.1) for the whole session's scale-out tests:
it takes about 20 s to start, so the stage, concurrency, failure and sweep tests share it."""

import pytest

from src.scale import tracking_server


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    with tracking_server.running_tracking_server(tmp_path_factory.mktemp("tracking")) as running:
        yield running


FIGURES = {"matmul_benchmark", "decompositions", "numerical_stability", "least_squares_convergence"}


def stage_runs(client, n_steps: int):
    """Day 1's stage run with least_squares.n_steps = `n_steps` and its variant runs ({variant: run})."""
    experiment = client.get_experiment_by_name("day01-math")
    runs = client.search_runs([experiment.experiment_id], f"params.`day01.least_squares.n_steps` = '{n_steps}'")
    parents = [r for r in runs if "variant" not in r.data.tags]
    assert len(parents) == 1, f"expected one stage run with n_steps={n_steps}, found {len(parents)}"
    children = client.search_runs([experiment.experiment_id], f"tags.mlflow.parentRunId = '{parents[0].info.run_id}'")
    return parents[0], {r.data.tags["variant"]: r for r in children}


def assert_recorded(server, metrics_file, n_steps: int):
    """Everything a day-1 smoke run wrote locally is on the server: each metric of metrics.json in its variant's
    run (nothing lost, nothing mixed up with another writer's), the GD curve, the four figures, proxied."""
    import json

    from mlflow.tracking import MlflowClient

    client = MlflowClient(server.url)
    parent, variants = stage_runs(client, n_steps)
    assert parent.info.status == "FINISHED" and parent.data.tags["profile"] == "smoke"
    local = json.loads(metrics_file.read_text())
    assert local["scratch_gradient_descent"]["steps"] <= n_steps  # (it stops early once converged)
    for variant, metrics in local.items():
        run = parent if variant == "stage" else variants[variant]
        assert run.info.status == "FINISHED", variant
        assert {key: run.data.metrics.get(key) for key in metrics} == pytest.approx(metrics), variant
    curve = client.get_metric_history(variants["scratch_gradient_descent"].info.run_id, "mse")
    assert len(curve) > 1 and curve[-1].value < curve[0].value
    assert {a.path for a in client.list_artifacts(parent.info.run_id, "figures")} == {
        f"figures/{name}.png" for name in FIGURES
    }
    assert parent.info.artifact_uri.startswith("mlflow-artifacts:")  # proxied: the client never saw a path
    assert len(list(server.artifacts.glob(f"*/{parent.info.run_id}/artifacts/figures/*.png"))) == len(FIGURES)
    return parent
