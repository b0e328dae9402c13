"""The optimizer race's parts: problems with correct gradients and minima, convergence bookkeeping, torch check."""

import numpy as np
import pytest
from scipy import optimize

from src.core.experiments import optimization_problems as problems
from src.core.experiments import optimizer_benchmark as race
from src.core.experiments.optimizer_benchmark import (
    OptimizerRun,
    compare_with_torch,
    curve_indices,
    lr_sweep,
    run_optimizer,
)


@pytest.fixture(scope="module")
def logistic():
    X, y, _ = problems.breast_cancer_design(["mean radius", "mean texture"])
    return problems.logistic_regression(X, y, l2=0.01)


def test_problem_gradients_match_finite_differences(logistic):
    quadratic = problems.ill_conditioned_quadratic(6, 100.0, np.random.default_rng(0))
    for problem, x in [
        (problems.rosenbrock(), np.array([-0.7, 0.4])),
        (quadratic, np.linspace(-1, 1, 6)),
        (logistic, np.array([0.2, -0.5, 1.0])),
    ]:
        numeric = optimize.approx_fprime(x, problem.loss, 1e-7)
        np.testing.assert_allclose(problem.grad(x), numeric, rtol=1e-5, atol=1e-6, err_msg=problem.name)


def test_breast_cancer_constants_match_the_data():
    X, y, names = problems.breast_cancer_design()
    assert len(y) == problems.BREAST_CANCER_PATIENTS and names == problems.breast_cancer_feature_names()


def test_known_minima(logistic):
    assert problems.rosenbrock().loss(np.array([1.0, 1.0])) == 0.0
    quadratic = problems.ill_conditioned_quadratic(6, 100.0, np.random.default_rng(0))
    eigenvalues = np.linalg.eigvalsh(quadratic.grad(np.eye(6)))  # grad(I) = A
    assert eigenvalues.max() / eigenvalues.min() == pytest.approx(100.0)
    # sklearn's optimum is where our gradient vanishes: f* really is the minimum of our loss
    w_star = optimize.minimize(logistic.loss, logistic.x0, jac=logistic.grad, method="BFGS", tol=1e-12).x
    assert logistic.loss(w_star) == pytest.approx(logistic.optimum, abs=1e-12)


def test_steps_to_tol_counts_only_a_lasting_arrival():
    run = OptimizerRun("x", 0.1, np.array([1.0, 1e-9, 1e-3, 1e-9, 1e-10]))
    assert run.steps_to_tol(1e-8) == 3  # touched at step 1, bounced out at 2, stayed from 3
    assert OptimizerRun("x", 0.1, np.array([1.0, 1e-9, 1e-3])).steps_to_tol(1e-8) is None
    assert OptimizerRun("x", 0.1, np.array([1e-9, 1e-10])).steps_to_tol(1e-8) == 0


def test_rows_and_metrics_of_a_sweep_say_what_each_run_reached():
    problem = problems.rosenbrock(tol=1e-8)
    converged = OptimizerRun("adam", 0.1, np.array([1.0, 1e-9, 1e-10]))
    stuck = OptimizerRun("sgd", 0.01, np.array([1.0, 0.5, 0.25]))
    rows = race.sweep_rows(problem, [converged, stuck])
    assert [(r["optimizer"], r["steps_to_tol"]) for r in rows] == [("adam", 1), ("sgd", "")]
    assert race.best_run_metrics(converged, 1e-8) == {
        "best_lr": 0.1,
        "final_excess_loss": 1e-10,
        "reached_tol": True,
        "steps_to_tol": 1,
    }
    assert "steps_to_tol" not in race.best_run_metrics(stuck, 1e-8)
    curve = race.curve_rows({"adam": converged, "sgd": stuck}, np.array([0, 2]))
    assert curve == [{"step": 0, "adam": 1.0, "sgd": 1.0}, {"step": 2, "adam": 1e-10, "sgd": 0.25}]


def test_a_too_large_lr_is_recorded_as_diverged_and_never_chosen():
    problem = problems.rosenbrock()
    with np.errstate(all="raise"):  # run_optimizer itself must not warn or raise on overflow
        runs, best = lr_sweep(problem, {"sgd": {}}, [1e-3, 0.5], 300)
    assert [r.diverged for r in runs] == [False, True]
    assert best["sgd"].lr == 1e-3
    assert not np.isfinite(runs[1].final_excess_loss)


def test_adaptive_optimizer_beats_plain_sgd_on_the_ill_conditioned_quadratic():
    problem = problems.ill_conditioned_quadratic(20, 1000.0, np.random.default_rng(1))
    lrs = [0.01, 0.1, 1.0, 1.9]
    _, best = lr_sweep(problem, {"sgd": {}, "momentum": {"momentum": 0.9}}, lrs, 500)
    assert best["momentum"].final_excess_loss < 1e-3 * best["sgd"].final_excess_loss


def test_compare_with_torch_reports_a_tiny_difference(logistic):
    result = compare_with_torch(logistic, "adam", 0.1, 20, {"betas": [0.9, 0.999]})
    assert result["trajectory_max_abs_diff_vs_torch"] < 1e-12
    assert result["seconds"] > 0 and result["time_ratio_vs_torch"] > 0


def test_run_records_the_path_of_a_2d_problem_and_curve_indices_cover_the_ends():
    run = run_optimizer(problems.rosenbrock(), "adam", 0.01, 10, {})
    assert run.path.shape == (11, 2) and np.allclose(run.path[0], [-1.2, 1.0])
    idx = curve_indices(5000, 500)
    assert idx[0] == 0 and idx[-1] == 5000 and len(idx) <= 500
