"""A bad config fails at start, naming the key: unknown keys, wrong types, values out of range."""

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from pipelines.day01_math import SCHEMA, SECTION
from src.config import ConfigError, validate
from src.paths import CONF_DIR


def _config(**day01):
    """conf/ under profile=smoke (the schema has no defaults: conf/ gives every value), with day01's
    sub-sections updated by `day01` (e.g. matmul={"repeats": 0}), keys added if they are new."""
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        cfg = OmegaConf.create(OmegaConf.to_container(compose("config", ["profile=smoke"])))
    for group, values in day01.items():
        for key, value in values.items():
            OmegaConf.update(cfg, f"day01.{group}.{key}", value, force_add=True)
    return cfg


def test_valid_config_becomes_typed_dataclass():
    day01 = validate(_config(matmul={"sizes": [4, 8]}), SECTION, SCHEMA)
    assert day01.matmul.sizes == [4, 8]
    assert day01.least_squares.lr is None  # conf/ says null: automatic


def test_a_key_missing_from_conf_is_an_error_not_a_silent_default():
    cfg = _config()
    del cfg.day01.matmul.repeats
    with pytest.raises(ConfigError, match=r"day01\.matmul\.repeats"):
        validate(cfg, SECTION, SCHEMA)


def test_unknown_key_is_named():
    with pytest.raises(ConfigError, match=r"day01\.matmul\.repeatz"):
        validate(_config(matmul={"repeatz": 3}), SECTION, SCHEMA)


def test_wrong_type_is_named():
    with pytest.raises(ConfigError, match=r"day01\.matmul\.repeats.*'abc'"):
        validate(_config(matmul={"repeats": "abc"}), SECTION, SCHEMA)


def test_out_of_range_value_is_explained():
    with pytest.raises(ConfigError, match=r"day01\.least_squares\.lr' must be > 0, got -0\.1"):
        validate(_config(least_squares={"lr": -0.1}), SECTION, SCHEMA)


def test_a_relation_between_two_keys_names_both():
    with pytest.raises(ConfigError, match=r"day01\.least_squares\.n_samples \(3\) must exceed n_features \(3\)"):
        validate(_config(least_squares={"n_samples": 3}), SECTION, SCHEMA)
    with pytest.raises(ConfigError, match=r"day01\.matmul\.pure_python_max_size \(2\) is below every size"):
        validate(_config(matmul={"pure_python_max_size": 2}), SECTION, SCHEMA)


def test_missing_section_says_how_to_fix():
    cfg = OmegaConf.create({"seed": 1, "profile": {"name": "cpu", "device": "cpu"}})
    with pytest.raises(ConfigError, match=r"no 'day01' section.*make params"):
        validate(cfg, SECTION, SCHEMA)


def test_bad_profile_device_is_refused():
    cfg = _config()
    cfg.profile.device = "tpu"
    with pytest.raises(ConfigError, match="profile.device"):
        validate(cfg, SECTION, SCHEMA)


def test_non_integer_seed_is_refused():
    cfg = _config()
    cfg.seed = "forty-two"
    with pytest.raises(ConfigError, match="seed"):
        validate(cfg, SECTION, SCHEMA)
