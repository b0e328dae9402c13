"""Check a stage's config against a typed schema before any work starts.

Hydra already refuses an override of a key that does not exist (`day01.sizse=3` fails at compose time). What
it cannot see is a hand-edited params.yaml or a value of the wrong type or range; this module catches those
at start-up, naming the key, so a typo never runs for ten minutes and then crashes.

A schema is a dataclass (nested dataclasses for sub-sections). Range checks go in `__post_init__` and
raise ValueError; they run when OmegaConf builds the dataclass.
"""

import sys
from dataclasses import dataclass

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException


class ConfigError(ValueError):
    """The configuration is wrong; the message names the key and how to fix it."""


@dataclass
class ProfileConfig:
    name: str = "cpu"
    device: str = "cpu"

    def __post_init__(self):
        if self.device not in ("cpu", "cuda", "auto"):
            raise ValueError(f"profile.device must be cpu, cuda or auto, got {self.device!r}")


def validate(cfg: DictConfig, section: str, schema: type):
    """Return cfg[section] as an instance of `schema`, or raise ConfigError naming the bad key."""
    _typed(cfg, "profile", ProfileConfig)
    if not isinstance(cfg.get("seed"), int):
        raise ConfigError(f"config key 'seed' must be an integer, got {cfg.get('seed')!r}")
    return _typed(cfg, section, schema)


def _typed(cfg: DictConfig, section: str, schema: type):
    if section not in cfg:
        raise ConfigError(
            f"config has no '{section}' section. Run `make params` to recompose params.yaml from conf/, "
            f"and check that conf/config.yaml lists '{section}' in its defaults."
        )
    try:
        merged = OmegaConf.merge(OmegaConf.structured(schema), cfg[section])
        return OmegaConf.to_object(merged)
    except OmegaConfBaseException as err:
        key = f"{section}.{err.full_key}" if getattr(err, "full_key", None) else section
        reason = str(err).splitlines()[0]
        raise ConfigError(
            f"bad config key '{key}': {reason}. Fix it in conf/ (then `make params`) or in your -S/override."
        ) from None
    except ValueError as err:  # a range check in the schema's __post_init__
        raise ConfigError(f"bad value in config section '{section}': {err}") from None


def validate_or_exit(cfg: DictConfig, section: str, schema: type):
    """`validate` for a stage's entry point: a config error ends the process with the message alone
    (exit status 1), not with a traceback through Hydra that buries it."""
    try:
        return validate(cfg, section, schema)
    except ConfigError as err:
        sys.exit(f"config error: {err}")


def torch_device(profile_device: str) -> str:
    """profile.device -> a torch device name: "auto" takes the GPU when there is one, "cuda" insists on it."""
    import torch

    if profile_device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("profile.device is cuda but torch sees no GPU: use profile=cpu (or device auto)")
    return "cuda" if profile_device != "cpu" and torch.cuda.is_available() else "cpu"
