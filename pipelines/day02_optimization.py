"""Day 2 stage: optimizers raced on three problems (held against torch.optim), MCMC held against exact
posteriors, and a Bayesian-vs-frequentist figure.

    dvc repro day02_optimization                              # what `make repro` runs, on params.yaml
    python -m pipelines.day02_optimization profile=smoke      # straight from conf/, for a quick look
    python -m pipelines.day02_optimization -m day02.problems.quadratic.condition_number=10,1000   # a sweep

Records (see src/tracking.py): a nested MLflow run per optimizer per problem (`scratch_adam_rosenbrock`, with
its loss curve), per optimizer against torch (`scratch_adam`, `torch_adam`), per sampler and target
(`scratch_mh_logistic`, ...), metrics.json, plot CSVs, figures.
"""

from dataclasses import dataclass, field
from typing import Any

import hydra
import numpy as np
import scipy.optimize
from omegaconf import DictConfig
from tqdm import tqdm

from src.config import validate_or_exit
from src.core import mcmc
from src.core.experiments import optimization_problems as problems
from src.core.optimization import make_optimizer
from src.core.experiments.optimizer_benchmark import compare_with_torch, curve_indices, lr_sweep
from src.core.experiments.posterior_sampling import bayes_vs_frequentist_rows, sample_chains, score
from src.core.probability import BayesianLogisticRegression, Beta, beta_binomial_posterior, beta_logpdf, binomial_logpmf
from src.tracking import StageRun
from src.visualization import bayes as bayes_figures
from src.visualization import optimization as opt_figures

STAGE = "day02_optimization"


# -- the stage's config schema: conf/day02/default.yaml must fit it ---------------------------------------
@dataclass
class OptimizersConfig:
    names: list[str] = field(default_factory=lambda: ["sgd", "adam"])
    hyperparameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    max_logged_points: int = 500
    torch_check_steps: int = 100

    def __post_init__(self):
        for name in self.names:  # build each optimizer once: a bad beta or momentum fails here, named
            try:
                make_optimizer(name, [np.zeros(1)], lr=1e-3, **self.settings(name))
            except (TypeError, ValueError) as err:
                raise ValueError(f"optimizers.hyperparameters.{name}: {err}") from None
        if self.max_logged_points < 2 or self.torch_check_steps < 1:
            raise ValueError("optimizers.max_logged_points must be >= 2 and torch_check_steps >= 1")

    def settings(self, name: str) -> dict:
        return dict(self.hyperparameters.get(name) or {})


@dataclass
class ProblemConfig:
    n_steps: int = 100
    tol: float = 1e-6
    lrs: list[float] = field(default_factory=lambda: [1e-3, 1e-2, 1e-1])

    def __post_init__(self):
        if self.n_steps < 1 or not self.tol > 0 or not self.lrs or min(self.lrs) <= 0:
            raise ValueError(f"a problem needs n_steps >= 1, tol > 0 and positive lrs; got {self}")


@dataclass
class RosenbrockConfig(ProblemConfig):
    start: list[float] = field(default_factory=lambda: [-1.2, 1.0])


@dataclass
class QuadraticConfig(ProblemConfig):
    dim: int = 20
    condition_number: float = 100.0


@dataclass
class LogisticConfig(ProblemConfig):
    l2: float = 0.01


@dataclass
class ProblemsConfig:
    rosenbrock: RosenbrockConfig = field(default_factory=RosenbrockConfig)
    quadratic: QuadraticConfig = field(default_factory=QuadraticConfig)
    logistic: LogisticConfig = field(default_factory=LogisticConfig)


@dataclass
class BetaBinomialMCMCConfig:
    prior: list[float] = field(default_factory=lambda: [1.0, 1.0])
    n_samples: int = 2000
    burn_in: int = 500
    proposal_scale: float = 0.05


@dataclass
class LogisticMCMCConfig:
    features: list[str] = field(default_factory=lambda: ["mean radius"])
    prior_std: float = 2.5
    n_samples: int = 2000
    burn_in: int = 500
    proposal_scale: float | None = None
    hmc_n_samples: int = 500
    hmc_step_size: float = 0.2
    hmc_n_leapfrog: int = 8
    reference_n_samples: int = 10000


@dataclass
class MCMCConfig:
    n_chains: int = 4
    beta_binomial: BetaBinomialMCMCConfig = field(default_factory=BetaBinomialMCMCConfig)
    logistic: LogisticMCMCConfig = field(default_factory=LogisticMCMCConfig)
    max_lag: int = 50

    def __post_init__(self):
        if self.n_chains < 2:
            raise ValueError(f"mcmc.n_chains must be >= 2 (R-hat compares chains), got {self.n_chains}")


@dataclass
class BayesVsFrequentistConfig:
    prior: list[float] = field(default_factory=lambda: [2.0, 2.0])
    sample_sizes: list[int] = field(default_factory=lambda: [1, 10, 100])
    level: float = 0.95


@dataclass
class Day02Config:
    optimizers: OptimizersConfig = field(default_factory=OptimizersConfig)
    problems: ProblemsConfig = field(default_factory=ProblemsConfig)
    mcmc: MCMCConfig = field(default_factory=MCMCConfig)
    bayes_vs_frequentist: BayesVsFrequentistConfig = field(default_factory=BayesVsFrequentistConfig)


# -- the experiments ----------------------------------------------------------------------------------------
def build_problems(cfg: ProblemsConfig, seed: int) -> list[tuple[problems.Problem, ProblemConfig]]:
    X, y, _ = problems.breast_cancer_design()
    quadratic = cfg.quadratic
    return [
        (problems.rosenbrock(cfg.rosenbrock.start, tol=cfg.rosenbrock.tol), cfg.rosenbrock),
        (
            problems.ill_conditioned_quadratic(
                quadratic.dim, quadratic.condition_number, np.random.default_rng(seed), tol=quadratic.tol
            ),
            quadratic,
        ),
        (problems.logistic_regression(X, y, cfg.logistic.l2, tol=cfg.logistic.tol), cfg.logistic),
    ]


def run_optimizer_comparison(run: StageRun, cfg: Day02Config, seed: int):
    optimizers = {name: cfg.optimizers.settings(name) for name in cfg.optimizers.names}
    sweep_rows = []
    for problem, settings in build_problems(cfg.problems, seed):
        total = len(optimizers) * len(settings.lrs)
        with tqdm(total=total, desc=f"lr sweep: {problem.name}", unit="run") as progress:
            runs, best = lr_sweep(problem, optimizers, settings.lrs, settings.n_steps, progress)
        sweep_rows += [
            {
                "problem": problem.name,
                "optimizer": r.optimizer,
                "lr": r.lr,
                "final_excess_loss": r.final_excess_loss,
                "steps_to_tol": r.steps_to_tol(problem.tol) if r.steps_to_tol(problem.tol) is not None else "",
            }
            for r in runs
        ]
        steps = curve_indices(settings.n_steps, cfg.optimizers.max_logged_points)
        for name, r in best.items():
            variant = f"scratch_{name}_{problem.name}"
            run.log_series("excess_loss", r.excess_loss[steps], variant=variant, steps=steps)
            reached = r.steps_to_tol(problem.tol)
            metrics = {"best_lr": r.lr, "final_excess_loss": r.final_excess_loss, "reached_tol": reached is not None}
            run.log_metrics(metrics | ({"steps_to_tol": reached} if reached is not None else {}), variant=variant)
        curves = [{"step": int(k), **{n: float(r.excess_loss[k]) for n, r in best.items()}} for k in steps]
        run.write_plot_data(f"convergence_{problem.name}", curves)
        run.log_figure(opt_figures.convergence(problem, best, settings.n_steps), f"convergence_{problem.name}")
        if problem.name == "logistic":  # the same steps through torch.optim, at each optimizer's best lr
            for name, r in best.items():
                check = compare_with_torch(problem, name, r.lr, cfg.optimizers.torch_check_steps, optimizers[name])
                run.log_metrics({"seconds": check.pop("torch_seconds")}, variant=f"torch_{name}")
                run.log_metrics(check, variant=f"scratch_{name}")
    run.write_plot_data("lr_sweep", sweep_rows)
    names = list(dict.fromkeys(r["problem"] for r in sweep_rows))
    run.log_figure(opt_figures.lr_sweep(sweep_rows, names), "lr_sweep")


def _log_chains(run, variant, samples, acceptance, seconds, exact_mean, exact_var, reference_mcse=0.0) -> dict:
    metrics, summary = score(samples, exact_mean, exact_var, reference_mcse)
    ess_per_second = metrics["ess_min"] / seconds
    run.log_metrics(
        metrics | {"acceptance_rate": acceptance, "seconds": seconds, "ess_per_second": ess_per_second}, variant=variant
    )
    return summary


def _diagnostic_rows(target, sampler, names, summary, reference, ref_mean, ref_var, acceptance) -> list[dict]:
    return [
        {
            "target": target,
            "sampler": sampler,
            "parameter": name.replace(" ", "_"),
            "reference": reference,
            "mean": summary["mean"][j],
            "reference_mean": np.atleast_1d(ref_mean)[j],
            "var": summary["var"][j],
            "reference_var": np.atleast_1d(ref_var)[j],
            "ess": summary["ess"][j],
            "rhat": summary["rhat"][j],
            "acceptance_rate": acceptance,
        }
        for j, name in enumerate(names)
    ]


def run_beta_binomial_mcmc(run: StageRun, cfg: MCMCConfig, rng) -> tuple[list[dict], np.ndarray]:
    """P(malignant) in breast_cancer: MH on prior x likelihood, scored against the closed-form posterior."""
    settings = cfg.beta_binomial
    _, y, _ = problems.breast_cancer_design([])
    k, n = int(y.sum()), len(y)
    a, b = settings.prior
    exact = beta_binomial_posterior(Beta(a, b), k, n)

    def log_posterior(theta):  # unnormalized: the sampler never sees the closed form
        return float(beta_logpdf(theta, a, b) + binomial_logpmf(k, n, theta))

    def sampler(x0, chain_rng):
        return mcmc.metropolis_hastings_chain(
            log_posterior, x0, settings.n_samples, settings.proposal_scale, burn_in=settings.burn_in, rng=chain_rng
        )

    starts = (np.arange(cfg.n_chains) + 0.5) / cfg.n_chains  # spread over (0, 1): dispersed on purpose
    samples, acceptance, seconds = sample_chains(sampler, starts, rng, "MH beta-binomial")
    summary = _log_chains(run, "scratch_mh_beta_binomial", samples, acceptance, seconds, exact.mean, exact.var)
    run.log_metrics({"posterior_mean": exact.mean, "posterior_var": exact.var}, variant="exact_beta_binomial")
    title = f"MH on P(malignant), {k}/{n} malignant; exact posterior Beta({exact.a:g}, {exact.b:g})"
    run.log_figure(
        bayes_figures.chains(title, samples, ["P(malignant)"], cfg.max_lag, lambda g: np.exp(exact.logpdf(g))),
        "mcmc_beta_binomial",
    )
    rows = _diagnostic_rows(
        "beta_binomial", "mh", ["p_malignant"], summary, "closed_form", exact.mean, exact.var, acceptance
    )
    return rows, mcmc.autocorrelation(samples[0, :, 0], cfg.max_lag)


def run_logistic_mcmc(run: StageRun, cfg: MCMCConfig, rng) -> tuple[list[dict], dict[str, np.ndarray]]:
    """Bayesian logistic regression: MH (Laplace-shaped proposal) and HMC, scored against a long MH run."""
    settings = cfg.logistic
    X, y, features = problems.breast_cancer_design(settings.features)
    names = ["intercept", *features]
    model = BayesianLogisticRegression(X, y, settings.prior_std)
    w_map = scipy.optimize.minimize(
        lambda w: -model.log_prob(w), np.zeros(X.shape[1]), jac=lambda w: -model.grad_log_prob(w)
    ).x
    cov = model.laplace_covariance(w_map)
    scale = settings.proposal_scale or 2.38 / np.sqrt(len(w_map))
    # over-dispersed starts: the MAP plus 3 Laplace standard deviations in random directions
    starts = w_map + 3 * rng.standard_normal((cfg.n_chains, len(w_map))) * np.sqrt(np.diag(cov))

    def mh(n_samples):
        return lambda x0, r: mcmc.metropolis_hastings_chain(
            model.log_prob, x0, n_samples, scale, proposal_cov=cov, burn_in=settings.burn_in, rng=r
        )

    def hmc(x0, r):
        return mcmc.hamiltonian_monte_carlo(
            model.log_prob,
            model.grad_log_prob,
            x0,
            settings.hmc_n_samples,
            settings.hmc_step_size,
            settings.hmc_n_leapfrog,
            burn_in=settings.burn_in // 5,  # an HMC draw costs n_leapfrog gradients: a shorter burn-in does
            inverse_mass=cov,
            rng=r,
        )

    reference, _, _ = sample_chains(mh(settings.reference_n_samples), starts, rng, "MH reference run")
    ref_flat, ref = reference.reshape(-1, len(w_map)), mcmc.summarize(reference)
    ref_mean, ref_var = ref["mean"], ref["var"]
    run.log_metrics(
        {"rhat_max": ref["rhat"].max(), "ess_min": ref["ess"].min(), "draws": len(ref_flat)},
        variant="reference_mh_logistic",
    )
    rows, acf = [], {}
    for sampler_name, sampler in (("mh", mh(settings.n_samples)), ("hmc", hmc)):
        samples, acceptance, seconds = sample_chains(sampler, starts, rng, f"{sampler_name.upper()} logistic")
        variant = f"scratch_{sampler_name}_logistic"
        summary = _log_chains(run, variant, samples, acceptance, seconds, ref_mean, ref_var, ref["mcse"])
        rows += _diagnostic_rows("logistic", sampler_name, names, summary, "long_mh_run", ref_mean, ref_var, acceptance)
        acf[f"logistic_{sampler_name}"] = np.mean(
            [
                mcmc.autocorrelation(samples[c, :, j], cfg.max_lag)
                for c in range(cfg.n_chains)
                for j in range(len(names))
            ],
            axis=0,
        )
        title = f"Bayesian logistic regression, {sampler_name.upper()} (acceptance {acceptance:.2f}); black: reference"
        run.log_figure(
            bayes_figures.chains(title, samples, names, cfg.max_lag, reference=ref_flat),
            f"mcmc_logistic_{sampler_name}",
        )
    return rows, acf


def run_mcmc(run: StageRun, cfg: MCMCConfig, seed: int):
    rng = np.random.default_rng(seed)
    rows, acf_beta = run_beta_binomial_mcmc(run, cfg, rng)
    logistic_rows, acf = run_logistic_mcmc(run, cfg, rng)
    run.write_plot_data("mcmc_diagnostics", rows + logistic_rows)
    acf = {"beta_binomial_mh": acf_beta, **acf}
    run.write_plot_data(
        "mcmc_autocorrelation", [{"lag": t, **{k: float(v[t]) for k, v in acf.items()}} for t in range(cfg.max_lag + 1)]
    )


def run_bayes_vs_frequentist(run: StageRun, cfg: BayesVsFrequentistConfig, seed: int):
    _, y, _ = problems.breast_cancer_design([])
    labels = np.random.default_rng(seed).permutation(y)  # patients in a random order
    prior = Beta(*cfg.prior)
    rows, posteriors = bayes_vs_frequentist_rows(labels, cfg.sample_sizes, prior, cfg.level)
    run.write_plot_data("bayes_vs_frequentist", rows)
    for row in (rows[0], rows[-1]):
        run.log_metrics(
            {f"credible_width_n{row['n']}": row["credible_high"] - row["credible_low"]}, variant="bayes_beta_posterior"
        )
        run.log_metrics({f"wald_width_n{row['n']}": row["wald_high"] - row["wald_low"]}, variant="frequentist_mle")
    shown = [posteriors[i] for i in np.unique(np.linspace(0, len(posteriors) - 1, 5).astype(int))]
    fig = bayes_figures.bayes_vs_frequentist(rows, cfg.level, tuple(cfg.prior), float(y.mean()), shown)
    run.log_figure(fig, "bayes_vs_frequentist")


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    day02 = validate_or_exit(cfg, "day02", Day02Config)  # before any work: a bad key fails here, named
    with StageRun(STAGE, cfg, section="day02") as run:
        run_optimizer_comparison(run, day02, cfg.seed)
        run_mcmc(run, day02.mcmc, cfg.seed)
        run_bayes_vs_frequentist(run, day02.bayes_vs_frequentist, cfg.seed)


if __name__ == "__main__":
    main()
