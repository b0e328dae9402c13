"""conf/ is the single source of truth: params.yaml must be exactly its composition."""

import pytest
import yaml
from hydra.errors import HydraException

from src.params import compose
from src.paths import PARAMS_FILE


def test_committed_params_yaml_equals_composition_of_conf():
    assert PARAMS_FILE.read_text() == compose(), "params.yaml is stale: run `make params` and commit it"


def test_profile_override_changes_stage_settings():
    cpu = yaml.safe_load(compose())
    smoke = yaml.safe_load(compose(["profile=smoke"]))
    assert cpu["profile"]["name"] == "cpu" and smoke["profile"]["name"] == "smoke"
    assert smoke["day01"]["matmul"]["sizes"] != cpu["day01"]["matmul"]["sizes"]
    assert max(smoke["day01"]["matmul"]["sizes"]) < max(cpu["day01"]["matmul"]["sizes"])


def test_key_override_reaches_params():
    composed = yaml.safe_load(compose(["day01.least_squares.n_steps=7"]))
    assert composed["day01"]["least_squares"]["n_steps"] == 7


def test_unknown_key_override_is_refused_at_compose_time():
    with pytest.raises(HydraException, match="repeatz"):
        compose(["day01.matmul.repeatz=3"])
