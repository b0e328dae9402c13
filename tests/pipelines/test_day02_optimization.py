"""Day 2 end to end under profile=smoke: the optimizer runs and their curves in MLflow, MCMC diagnostics, files."""

import csv
import json
import re

import pytest
from mlflow.tracking import MlflowClient

import pipelines.day02_optimization as day02
from src.config import ConfigError, validate

FIGURES = {
    "convergence_rosenbrock",
    "convergence_quadratic",
    "convergence_logistic",
    "lr_sweep",
    "mcmc_beta_binomial",
    "mcmc_logistic_mh",
    "mcmc_logistic_hmc",
    "bayes_vs_frequentist",
}


def test_smoke_stage_records_one_run_per_optimizer_per_problem(tracking_store, smoke_config, tmp_path):
    cfg = smoke_config()
    day02.main(cfg)
    names = list(cfg.day02.optimizers.names)

    out = tmp_path / "reports" / "day02_optimization"
    metrics = json.loads((out / "metrics.json").read_text())
    for name in names:
        assert metrics[f"scratch_{name}"]["trajectory_max_abs_diff_vs_torch"] < 1e-10, name
        assert metrics[f"torch_{name}"]["seconds"] > 0
        for problem in ("rosenbrock", "quadratic", "logistic"):
            result = metrics[f"scratch_{name}_{problem}"]
            assert result["best_lr"] in cfg.day02.problems[problem].lrs
            assert result["final_excess_loss"] >= 0
    # every sampler finds its posterior: chains that never moved, or moved wrongly, miss it by many sd
    for sampler in ("scratch_mh_beta_binomial", "scratch_mh_logistic", "scratch_hmc_logistic"):
        assert metrics[sampler]["rhat_max"] < 1.1, sampler
        assert metrics[sampler]["posterior_mean_error_in_sd"] < 0.5, sampler
        assert metrics[sampler]["posterior_var_rel_error"] < 0.6, sampler
    assert 0.1 < metrics["scratch_mh_beta_binomial"]["acceptance_rate"] < 0.9
    assert metrics["scratch_hmc_logistic"]["acceptance_rate"] > 0.5
    assert metrics["exact_beta_binomial"]["posterior_mean"] == pytest.approx((212 + 1) / (569 + 2))
    assert metrics["frequentist_mle"]["wald_width_n1"] == 0.0 < metrics["bayes_beta_posterior"]["credible_width_n1"]

    for problem in ("rosenbrock", "quadratic", "logistic"):
        with open(out / "plots" / f"convergence_{problem}.csv") as f:
            rows = list(csv.DictReader(f))
        assert list(rows[0]) == ["step", *names]
        for name in names:  # every optimizer, at its best lr, at least halved its excess loss
            assert float(rows[-1][name]) < 0.5 * float(rows[0][name]), (problem, name)
    assert rows[-1]["step"] == "50"  # logistic: n_steps 50 under smoke
    assert {p.stem for p in (out / "figures").glob("*.png")} == FIGURES

    client = MlflowClient(tracking_store)
    exp = client.get_experiment_by_name("day02-optimization")
    runs = client.search_runs([exp.experiment_id])
    parent = next(r for r in runs if "variant" not in r.data.tags)
    variants = {r.data.tags["variant"]: r for r in runs if "variant" in r.data.tags}
    assert parent.info.status == "FINISHED" and parent.data.tags["profile"] == "smoke"
    assert {f"scratch_{n}_{p}" for n in names for p in ("rosenbrock", "quadratic", "logistic")} <= set(variants)
    curve = client.get_metric_history(variants["scratch_momentum_quadratic"].info.run_id, "excess_loss")
    assert len(curve) > 10 and curve[-1].value < curve[0].value
    figures = {a.path for a in client.list_artifacts(parent.info.run_id, "figures")}
    assert figures == {f"figures/{n}.png" for n in FIGURES}


@pytest.mark.parametrize(
    "override, key",
    [
        ("day02.optimizers.hyperparameters.adam.betas=[1.0,0.999]", "optimizers.hyperparameters.adam.betas"),
        ("day02.optimizers.hyperparameters.adamw.betas=[0.9]", "optimizers.hyperparameters.adamw.betas"),
        ("day02.optimizers.hyperparameters.momentum.momentum=-1", "optimizers.hyperparameters.momentum.momentum"),
        ("day02.optimizers.names=[sgd,adamax]", "optimizers.names"),
        ("day02.problems.logistic.lrs=[-0.1]", "problems.logistic.lrs"),
        ("day02.mcmc.n_chains=1", "mcmc.n_chains"),
        ("day02.mcmc.max_lag=300", "mcmc.max_lag"),
        ("day02.mcmc.logistic.features=[mean_radius]", "mcmc.logistic.features"),
        ("day02.bayes_vs_frequentist.sample_sizes=[1,570]", "bayes_vs_frequentist.sample_sizes"),
    ],
)
def test_bad_hyperparameters_in_the_config_fail_before_any_work(smoke_config, override, key):
    with pytest.raises(ConfigError, match=re.escape(f"day02.{key}")):
        validate(smoke_config(override), day02.SECTION, day02.SCHEMA)
