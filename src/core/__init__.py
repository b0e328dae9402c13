"""Days 1 and 2 from scratch: the algorithms, each held against its reference in tests/core/.

Day 1: `linear_algebra` (matmul, Gauss-Jordan, LU, QR, Cholesky, Jacobi eigh and SVD, least squares) and
`math_operations` (vectors, numerical derivatives, gradient descent).
Day 2: `optimization` (SGD ... AdamW, schedules; the roadmap's `adam_optimizer`, `rmsprop`), `probability`
(densities, conjugate posteriors, Bayesian logistic regression), `mcmc` (Metropolis-Hastings, HMC, diagnostics),
`probability_whitebox` (the roadmap's name for the day-2 samplers and posteriors).

What the day-1 and day-2 stages run with these (benchmarks, test problems, sweeps, scoring) is harness, not
algorithm: it lives in `src.core.experiments`.
"""
