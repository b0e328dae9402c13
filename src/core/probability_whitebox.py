"""The roadmap's name for day 2's white-box probability tools: `from src.core.probability_whitebox import
metropolis_hastings`. The code lives in src.core.mcmc (samplers, diagnostics) and src.core.probability
(densities, conjugate posteriors); this module re-exports it under the name the roadmap uses."""

from src.core.mcmc import (
    effective_sample_size,
    hamiltonian_monte_carlo,
    metropolis_hastings,
    metropolis_hastings_chain,
    split_rhat,
)
from src.core.probability import Beta, Normal, beta_binomial_posterior, normal_normal_posterior

__all__ = [
    "Beta",
    "Normal",
    "beta_binomial_posterior",
    "effective_sample_size",
    "hamiltonian_monte_carlo",
    "metropolis_hastings",
    "metropolis_hastings_chain",
    "normal_normal_posterior",
    "split_rhat",
]
