"""The harness days 1 and 2 run the algorithms of `src.core` in: benchmarks against the reference, test problems,
sweeps and scoring. The stages (pipelines/day01_math.py, day02_optimization.py) call these and record the results.

Day 1: `matmul_benchmark` (pure Python vs NumPy; also `python -m src.core.experiments.matmul_benchmark`),
`numerical_checks` (each decomposition against LAPACK, QR stability by condition number), `least_squares`
(gradient descent and normal equations against numpy.linalg.lstsq).
Day 2: `optimization_problems` (Rosenbrock, an ill-conditioned quadratic, logistic regression),
`optimizer_benchmark` (learning-rate sweeps, the race, the check against torch.optim), `posterior_sampling`
(MCMC set-ups and chains scored against exact posteriors, Bayesian vs frequentist estimates).
"""
