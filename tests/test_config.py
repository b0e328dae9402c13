"""A bad config fails at start, naming the key: unknown keys, wrong types, values out of range."""

import pytest
from omegaconf import OmegaConf

from pipelines.day01_math import Day01Config
from src.config import ConfigError, validate


def _config(**day01):
    base = {"seed": 1, "profile": {"name": "cpu", "device": "cpu"}, "day01": {"matmul": {"sizes": [4, 8]}}}
    base["day01"].update(day01)
    return OmegaConf.create(base)


def test_valid_config_becomes_typed_dataclass():
    day01 = validate(_config(), "day01", Day01Config)
    assert day01.matmul.sizes == [4, 8]
    assert day01.least_squares.lr is None  # the schema's default fills what the file leaves out


def test_unknown_key_is_named():
    with pytest.raises(ConfigError, match=r"day01\.matmul\.repeatz"):
        validate(_config(matmul={"repeatz": 3}), "day01", Day01Config)


def test_wrong_type_is_named():
    with pytest.raises(ConfigError, match=r"day01\.matmul\.repeats.*'abc'"):
        validate(_config(matmul={"repeats": "abc"}), "day01", Day01Config)


def test_out_of_range_value_is_explained():
    with pytest.raises(ConfigError, match=r"least_squares\.lr must be positive"):
        validate(_config(least_squares={"lr": -0.1}), "day01", Day01Config)


def test_missing_section_says_how_to_fix():
    cfg = OmegaConf.create({"seed": 1, "profile": {"name": "cpu", "device": "cpu"}})
    with pytest.raises(ConfigError, match=r"no 'day01' section.*make params"):
        validate(cfg, "day01", Day01Config)


def test_bad_profile_device_is_refused():
    cfg = _config()
    cfg.profile.device = "tpu"
    with pytest.raises(ConfigError, match="profile.device"):
        validate(cfg, "day01", Day01Config)


def test_non_integer_seed_is_refused():
    cfg = _config()
    cfg.seed = "forty-two"
    with pytest.raises(ConfigError, match="seed"):
        validate(cfg, "day01", Day01Config)
