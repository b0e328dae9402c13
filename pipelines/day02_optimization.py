"""Day 2 stage: optimizers raced on three problems (held against torch.optim), MCMC held against exact
posteriors, and a Bayesian-vs-frequentist figure.

    dvc repro day02_optimization                              # what `make repro` runs, on params.yaml
    python -m pipelines.day02_optimization profile=smoke      # straight from conf/, for a quick look
    python -m pipelines.day02_optimization -m day02.problems.quadratic.condition_number=10,1000   # a sweep

Records (see src/tracking.py): a nested MLflow run per optimizer per problem (`scratch_adam_rosenbrock`, with
its loss curve), per optimizer against torch (`scratch_adam`, `torch_adam`), per sampler and target
(`scratch_mh_logistic`, ...), metrics.json, plot CSVs, figures.
"""

import dataclasses
from dataclasses import dataclass

import hydra
import numpy as np
from omegaconf import DictConfig
from tqdm import tqdm

from src.config import setting, validate_or_exit
from src.core import mcmc
from src.core.experiments import optimization_problems as problems
from src.core.experiments import optimizer_benchmark as race
from src.core.experiments import posterior_sampling as sampling
from src.core.optimization import OPTIMIZERS
from src.core.probability import Beta
from src.tracking import StageRun
from src.visualization import bayes as bayes_figures
from src.visualization import optimization as opt_figures

STAGE = "day02_optimization"
SECTION = "day02"


def _pair(values: list, key: str) -> None:
    if len(values) != 2:
        raise ValueError(f"{SECTION}.{key} must hold exactly two numbers, got {values}")


# -- the stage's config schema: conf/day02/default.yaml gives every value ----------------------------------
@dataclass
class NoHyperparameters:  # plain SGD: the learning rate is all it takes
    pass


@dataclass
class MomentumHyperparameters:
    momentum: float = setting(above=0, below=1)


@dataclass
class AdaGradHyperparameters:
    eps: float = setting(above=0)


@dataclass
class RMSpropHyperparameters:
    alpha: float = setting(at_least=0, below=1)
    eps: float = setting(above=0)


@dataclass
class AdamHyperparameters:
    betas: list[float] = setting(at_least=0, below=1)
    eps: float = setting(above=0)

    def __post_init__(self):
        _pair(
            self.betas,
            f"optimizers.hyperparameters.{type(self).__name__.removesuffix('Hyperparameters').lower()}.betas",
        )


@dataclass
class AdamWHyperparameters(AdamHyperparameters):
    weight_decay: float = setting(at_least=0)


@dataclass
class HyperparametersConfig:  # everything but lr, which the sweep picks per optimizer and problem
    sgd: NoHyperparameters
    momentum: MomentumHyperparameters
    nesterov: MomentumHyperparameters
    adagrad: AdaGradHyperparameters
    rmsprop: RMSpropHyperparameters
    adam: AdamHyperparameters
    adamw: AdamWHyperparameters


@dataclass
class OptimizersConfig:
    names: list[str] = setting(one_of=tuple(OPTIMIZERS))
    hyperparameters: HyperparametersConfig
    max_logged_points: int = setting(at_least=2)
    torch_check_steps: int = setting(at_least=1)

    def settings(self) -> dict[str, dict]:
        """{optimizer name: its hyperparameters} for the optimizers that race."""
        return {name: dataclasses.asdict(getattr(self.hyperparameters, name)) for name in self.names}


@dataclass
class ProblemConfig:
    n_steps: int = setting(at_least=1)
    tol: float = setting(above=0)
    lrs: list[float] = setting(above=0)


@dataclass
class RosenbrockConfig(ProblemConfig):
    start: list[float] = setting(at_least=-5, at_most=5)  # the function's usual plotting box

    def __post_init__(self):
        _pair(self.start, "problems.rosenbrock.start")


@dataclass
class QuadraticConfig(ProblemConfig):
    dim: int = setting(at_least=2)
    condition_number: float = setting(at_least=1)


@dataclass
class LogisticConfig(ProblemConfig):
    l2: float = setting(above=0)


@dataclass
class ProblemsConfig:
    rosenbrock: RosenbrockConfig
    quadratic: QuadraticConfig
    logistic: LogisticConfig


@dataclass
class BetaBinomialMCMCConfig:
    prior: list[float] = setting(above=0)
    n_samples: int = setting(at_least=4)  # split R-hat halves each chain
    burn_in: int = setting(at_least=0)
    proposal_scale: float = setting(above=0)

    def __post_init__(self):
        _pair(self.prior, "mcmc.beta_binomial.prior")


@dataclass
class LogisticMCMCConfig:
    features: list[str] = setting(text=True)
    prior_std: float = setting(above=0)
    n_samples: int = setting(at_least=4)
    burn_in: int = setting(at_least=0)
    proposal_scale: float | None = setting(above=0, optional=True)
    start_spread: float = setting(above=0)
    hmc_n_samples: int = setting(at_least=4)
    hmc_step_size: float = setting(above=0)
    hmc_n_leapfrog: int = setting(at_least=1)
    hmc_burn_in: int = setting(at_least=0)
    reference_n_samples: int = setting(at_least=4)

    def __post_init__(self):
        known = problems.breast_cancer_feature_names()
        if unknown := sorted(set(self.features) - set(known)):
            raise ValueError(
                f"{SECTION}.mcmc.logistic.features: unknown breast_cancer features {unknown}; choose from {known}"
            )


@dataclass
class MCMCConfig:
    n_chains: int = setting(at_least=2)  # R-hat compares chains
    beta_binomial: BetaBinomialMCMCConfig
    logistic: LogisticMCMCConfig
    max_lag: int = setting(at_least=1)

    def __post_init__(self):
        shortest = min(self.beta_binomial.n_samples, self.logistic.n_samples, self.logistic.hmc_n_samples)
        if self.max_lag >= shortest:
            raise ValueError(
                f"{SECTION}.mcmc.max_lag ({self.max_lag}) must be below every chain's n_samples ({shortest})"
            )


@dataclass
class BayesVsFrequentistConfig:
    prior: list[float] = setting(above=0)
    sample_sizes: list[int] = setting(at_least=1, at_most=problems.BREAST_CANCER_PATIENTS)
    level: float = setting(above=0, below=1)

    def __post_init__(self):
        _pair(self.prior, "bayes_vs_frequentist.prior")


@dataclass
class Day02Config:
    optimizers: OptimizersConfig
    problems: ProblemsConfig
    mcmc: MCMCConfig
    bayes_vs_frequentist: BayesVsFrequentistConfig


SCHEMA = Day02Config


# -- the experiments ----------------------------------------------------------------------------------------
def build_problems(cfg: ProblemsConfig, seed: int) -> list[tuple[problems.Problem, ProblemConfig]]:
    X, y, _ = problems.breast_cancer_design()
    rosenbrock, quadratic, logistic = cfg.rosenbrock, cfg.quadratic, cfg.logistic
    rng = np.random.default_rng(seed)
    return [
        (problems.rosenbrock(rosenbrock.start, tol=rosenbrock.tol), rosenbrock),
        (problems.ill_conditioned_quadratic(quadratic.dim, quadratic.condition_number, rng, quadratic.tol), quadratic),
        (problems.logistic_regression(X, y, logistic.l2, tol=logistic.tol), logistic),
    ]


def run_optimizer_comparison(run: StageRun, cfg: Day02Config, seed: int):
    optimizers = cfg.optimizers.settings()
    sweep_rows = []
    for problem, settings in build_problems(cfg.problems, seed):
        with tqdm(total=len(optimizers) * len(settings.lrs), desc=f"lr sweep: {problem.name}", unit="run") as bar:
            runs, best = race.lr_sweep(problem, optimizers, settings.lrs, settings.n_steps, bar)
        sweep_rows += race.sweep_rows(problem, runs)
        steps = race.curve_indices(settings.n_steps, cfg.optimizers.max_logged_points)
        for name, best_run in best.items():
            variant = f"scratch_{name}_{problem.name}"
            run.log_series("excess_loss", best_run.excess_loss[steps], variant=variant, steps=steps)
            run.log_metrics(race.best_run_metrics(best_run, problem.tol), variant=variant)
        run.write_plot_data(f"convergence_{problem.name}", race.curve_rows(best, steps))
        run.log_figure(opt_figures.convergence(problem, best, settings.n_steps), f"convergence_{problem.name}")
        if problem.name == "logistic":  # the same steps through torch.optim, at each optimizer's best lr
            for name, best_run in best.items():
                steps_checked = cfg.optimizers.torch_check_steps
                check = race.compare_with_torch(problem, name, best_run.lr, steps_checked, optimizers[name])
                run.log_metrics({"seconds": check.pop("torch_seconds")}, variant=f"torch_{name}")
                run.log_metrics(check, variant=f"scratch_{name}")
    run.write_plot_data("lr_sweep", sweep_rows)
    names = list(dict.fromkeys(r["problem"] for r in sweep_rows))
    run.log_figure(opt_figures.lr_sweep(sweep_rows, names), "lr_sweep")


def run_beta_binomial_mcmc(run: StageRun, cfg: MCMCConfig, rng) -> tuple[list[dict], np.ndarray]:
    """P(malignant) in breast_cancer: MH on prior x likelihood, scored against the closed-form posterior."""
    settings = cfg.beta_binomial
    _, y, _ = problems.breast_cancer_design([])
    k, n = int(y.sum()), len(y)
    exact, chains = sampling.beta_binomial_chains(
        k, n, settings.prior, cfg.n_chains, settings.n_samples, settings.burn_in, settings.proposal_scale, rng
    )
    metrics, summary = sampling.score(chains, exact.mean, exact.var)
    run.log_metrics(metrics, variant="scratch_mh_beta_binomial")
    run.log_metrics({"posterior_mean": exact.mean, "posterior_var": exact.var}, variant="exact_beta_binomial")
    title = f"MH on P(malignant), {k}/{n} malignant; exact posterior Beta({exact.a:g}, {exact.b:g})"
    figure = bayes_figures.chains(
        title, chains.samples, ["P(malignant)"], cfg.max_lag, lambda grid: np.exp(exact.logpdf(grid))
    )
    run.log_figure(figure, "mcmc_beta_binomial")
    rows = sampling.diagnostic_rows(
        "beta_binomial", "mh", ["p_malignant"], summary, "closed_form", exact.mean, exact.var, chains.acceptance_rate
    )
    return rows, mcmc.autocorrelation(chains.samples[0, :, 0], cfg.max_lag)


def run_logistic_mcmc(run: StageRun, cfg: MCMCConfig, rng) -> tuple[list[dict], dict[str, np.ndarray]]:
    """Bayesian logistic regression: MH (Laplace-shaped proposal) and HMC, scored against a long MH run."""
    settings = cfg.logistic
    X, y, features = problems.breast_cancer_design(settings.features)
    names = ["intercept", *features]
    posterior = sampling.LogisticPosteriorSampler.at_map(X, y, settings.prior_std, settings.proposal_scale)
    starts = posterior.starts(cfg.n_chains, rng, settings.start_spread)
    samplers = {
        "mh": posterior.metropolis_hastings(settings.n_samples, settings.burn_in),
        "hmc": posterior.hmc(
            settings.hmc_n_samples, settings.hmc_step_size, settings.hmc_n_leapfrog, settings.hmc_burn_in
        ),
    }
    long_run = posterior.metropolis_hastings(settings.reference_n_samples, settings.burn_in)
    reference = sampling.sample_chains(long_run, starts, rng, "MH reference run")
    ref = mcmc.summarize(reference.samples)
    ref_flat = reference.samples.reshape(-1, len(names))
    run.log_metrics(
        {"rhat_max": ref["rhat"].max(), "ess_min": ref["ess"].min(), "draws": len(ref_flat)},
        variant="reference_mh_logistic",
    )
    rows, acf = [], {}
    for sampler_name, sampler in samplers.items():
        chains = sampling.sample_chains(sampler, starts, rng, f"{sampler_name.upper()} logistic")
        metrics, summary = sampling.score(chains, ref["mean"], ref["var"], ref["mcse"])
        run.log_metrics(metrics, variant=f"scratch_{sampler_name}_logistic")
        rows += sampling.diagnostic_rows(
            "logistic", sampler_name, names, summary, "long_mh_run", ref["mean"], ref["var"], chains.acceptance_rate
        )
        acf[f"logistic_{sampler_name}"] = mcmc.mean_autocorrelation(chains.samples, cfg.max_lag)
        title = (
            f"Bayesian logistic regression, {sampler_name.upper()} (acceptance {chains.acceptance_rate:.2f});"
            " black: reference"
        )
        figure = bayes_figures.chains(title, chains.samples, names, cfg.max_lag, reference=ref_flat)
        run.log_figure(figure, f"mcmc_logistic_{sampler_name}")
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
    rows, posteriors = sampling.bayes_vs_frequentist_rows(labels, cfg.sample_sizes, Beta(*cfg.prior), cfg.level)
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
    settings = validate_or_exit(cfg, SECTION, SCHEMA)  # before any work: a bad key fails here, named
    with StageRun(STAGE, cfg, SECTION, settings) as run:
        run_optimizer_comparison(run, settings, cfg.seed)
        run_mcmc(run, settings.mcmc, cfg.seed)
        run_bayes_vs_frequentist(run, settings.bayes_vs_frequentist, cfg.seed)


if __name__ == "__main__":
    main()
