"""Every profile composes and validates for every stage, and every setting refuses nonsense, naming its key.

The stages are found, not listed: any pipelines/*.py module with STAGE, SECTION and SCHEMA takes part, so a new
stage is covered the day it lands (and `profile=gpu`, which no machine here runs, can't rot unseen).
"""

import dataclasses
import importlib
import pkgutil

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

import pipelines
from src.config import ConfigError, leaf_settings, validate
from src.paths import CONF_DIR

PROFILES = sorted(p.stem for p in (CONF_DIR / "profile").glob("*.yaml"))


def stage_modules():
    found = []
    for info in pkgutil.iter_modules(pipelines.__path__):
        module = importlib.import_module(f"pipelines.{info.name}")
        if all(hasattr(module, name) for name in ("STAGE", "SECTION", "SCHEMA")):
            found.append(module)
    return found


STAGES = stage_modules()


def composed(profile: str):
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        return compose("config", [f"profile={profile}"])


def test_every_stage_script_declares_its_schema():
    scripts = {info.name for info in pkgutil.iter_modules(pipelines.__path__)}
    assert {m.__name__.split(".")[-1] for m in STAGES} == scripts, "a stage script lacks STAGE/SECTION/SCHEMA"


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("stage", STAGES, ids=lambda m: m.STAGE)
def test_profile_composes_and_validates(profile, stage):
    settings = validate(composed(profile), stage.SECTION, stage.SCHEMA)
    assert dataclasses.is_dataclass(settings)


@pytest.mark.parametrize("stage", STAGES, ids=lambda m: m.STAGE)
def test_schema_has_no_defaults(stage):
    """conf/ is the one place defaults live: a schema default could silently disagree with it."""
    for key, field in leaf_settings(stage.SCHEMA, f"{stage.SECTION}."):
        assert field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING, key


@pytest.mark.parametrize("stage", STAGES, ids=lambda m: m.STAGE)
def test_every_setting_refuses_nonsense_naming_its_key(stage):
    cfg = composed("smoke")
    for key, field in leaf_settings(stage.SCHEMA, f"{stage.SECTION}."):
        allowed = field.metadata.get("range")
        if allowed is None:
            assert field.type is bool, f"{key} declares no range: give it setting(...)"
            nonsense = "maybe"
        else:
            nonsense = allowed.invalid_example()
            if "list" in str(field.type):
                nonsense = [nonsense]
        broken = OmegaConf.create(OmegaConf.to_container(cfg))
        OmegaConf.update(broken, key, nonsense, force_add=True)
        # the key's own range message, never a relation's (relations run after every key passed its range)
        with pytest.raises(ConfigError, match=f"config key '{key}'".replace(".", r"\.")):
            validate(broken, stage.SECTION, stage.SCHEMA)


def test_a_range_is_checked_before_a_relation_that_uses_the_key():
    """day02.mcmc relates max_lag to every chain's n_samples: a chain of 0 samples must be named as such, not
    reported as "max_lag must be below every chain's n_samples (0)"."""
    stage = next(m for m in STAGES if m.SECTION == "day02")
    cfg = composed("smoke")
    cfg.day02.mcmc.beta_binomial.n_samples = 0
    with pytest.raises(ConfigError, match=r"config key 'day02\.mcmc\.beta_binomial\.n_samples' must be >= 4"):
        validate(cfg, stage.SECTION, stage.SCHEMA)


@pytest.mark.parametrize("seed", [-1, "forty-two", 2**40])
def test_bad_seed_is_refused(seed):
    stage = STAGES[0]
    cfg = composed("smoke")
    cfg.seed = seed
    with pytest.raises(ConfigError, match="seed"):
        validate(cfg, stage.SECTION, stage.SCHEMA)
