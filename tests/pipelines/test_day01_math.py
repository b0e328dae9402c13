"""Day 1 end to end under profile=smoke: what it records, how it fails, how it sweeps."""

import json

import pytest
from mlflow.tracking import MlflowClient

import pipelines.day01_math as day01
from tests.conftest import run_stage


def _runs(uri):
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("day01-math")
    return client, client.search_runs([exp.experiment_id]) if exp else []


def test_smoke_stage_records_metrics_runs_and_figures(tracking_store, smoke_config, tmp_path):
    day01.main(smoke_config())

    metrics = json.loads((tmp_path / "reports" / "day01_math" / "metrics.json").read_text())
    for op in ("inverse", "lu", "qr_householder", "cholesky", "eigh", "svd"):
        assert metrics[f"scratch_{op}"]["reconstruction_error"] < 1e-10, op
    assert metrics["scratch_eigh"]["eigenvalues_max_abs_diff"] < 1e-8
    assert metrics["scratch_normal_equations"]["weights_max_abs_diff"] < 1e-8
    # the one model trained by iteration: gradient descent reaches lstsq's optimum, not just "some" MSE
    gd, lstsq = metrics["scratch_gradient_descent"], metrics["numpy_lstsq"]
    assert gd["weights_max_abs_diff"] < 1e-6 and gd["final_mse"] <= 1.01 * lstsq["final_mse"]
    assert metrics["scratch_qr_householder"]["orthogonality_loss_cond1e8"] < 1e-12  # stable where GS is not
    assert metrics["numpy_blas"]["speedup_vs_pure_python_n16"] > 1  # BLAS beats the interpreter

    client, runs = _runs(tracking_store)
    parent = next(r for r in runs if "variant" not in r.data.tags)
    variants = {r.data.tags["variant"]: r for r in runs if "variant" in r.data.tags}
    assert parent.info.status == "FINISHED"
    assert parent.data.params["day01.least_squares.n_steps"] == "50"
    assert parent.data.tags["profile"] == "smoke"
    assert {"scratch_svd", "numpy_svd", "pure_python", "numpy_blas", "scratch_gradient_descent"} <= set(variants)
    figures = {a.path for a in client.list_artifacts(parent.info.run_id, "figures")}
    assert figures == {
        f"figures/{n}.png"
        for n in ("matmul_benchmark", "decompositions", "numerical_stability", "least_squares_convergence")
    }
    curve = client.get_metric_history(variants["scratch_gradient_descent"].info.run_id, "mse")
    assert len(curve) > 1 and curve[-1].value < curve[0].value


def test_a_crash_mid_stage_marks_the_run_failed_and_writes_no_metrics(
    tracking_store, smoke_config, tmp_path, monkeypatch
):
    def crash(*args):
        raise FloatingPointError("simulated crash in the last experiment")

    monkeypatch.setattr(day01, "run_least_squares", crash)
    with pytest.raises(FloatingPointError):
        day01.main(smoke_config())

    out = tmp_path / "reports" / "day01_math"
    assert not (out / "metrics.json").exists()
    assert not list(out.glob("**/.*.tmp"))  # earlier figures are complete files, none half-written
    _, runs = _runs(tracking_store)
    assert runs and all(r.info.status == "FAILED" for r in runs)


def test_bad_config_value_fails_at_start_naming_the_key(tracking_store):
    result = run_stage("day01_math", "profile=smoke", "day01.matmul.repeats=abc")
    assert result.returncode == 1
    assert "config error: bad config key 'day01.matmul.repeats'" in result.stderr
    _, runs = _runs(tracking_store)
    assert runs == []  # nothing started


@pytest.mark.slow
def test_hydra_multirun_logs_one_run_per_combination(tracking_store, tmp_path):
    sweep_dir = tmp_path / "sweep"
    result = run_stage(
        "day01_math", "--multirun", "profile=smoke", "day01.least_squares.n_steps=5,9", f"hydra.sweep.dir={sweep_dir}"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    _, runs = _runs(tracking_store)
    parents = [r for r in runs if "variant" not in r.data.tags]
    assert sorted(r.data.params["day01.least_squares.n_steps"] for r in parents) == ["5", "9"]
    assert all("day01.least_squares.n_steps=" in r.data.tags["hydra_overrides"] for r in parents)
    # each job's files live in its own sweep folder, never in the reports/ that DVC owns
    assert (sweep_dir / "0" / "reports" / "day01_math" / "metrics.json").exists()
    assert (sweep_dir / "1" / "reports" / "day01_math" / "metrics.json").exists()
    assert not (tmp_path / "reports").exists()
