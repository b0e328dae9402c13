"""What the environment may override in the service's config at serve time: the rate limit, the challenger."""

import pytest

from src.production.serving_config import CHALLENGER_TAG_ENV, RATE_LIMIT_ENV, load_serving_config


def test_rate_limit_from_config_off_or_overridden(monkeypatch):
    config = load_serving_config()
    monkeypatch.delenv(RATE_LIMIT_ENV, raising=False)
    assert config.rate_limit_setting() == (config.rate_limit.per_second, config.rate_limit.burst)
    monkeypatch.setenv(RATE_LIMIT_ENV, "off")
    assert config.rate_limit_setting() is None
    monkeypatch.setenv(RATE_LIMIT_ENV, "0.5,4")
    assert config.rate_limit_setting() == (0.5, 4)
    for bad in ("fast", "0,4", "2,0", "2"):
        monkeypatch.setenv(RATE_LIMIT_ENV, bad)
        with pytest.raises(ValueError, match=RATE_LIMIT_ENV):
            config.rate_limit_setting()


def test_challenger_tag_from_the_environment_or_none(monkeypatch, tmp_path):
    config = load_serving_config()
    monkeypatch.setenv(CHALLENGER_TAG_ENV, "issue-classifier-challenger:abc")
    assert config.challenger_tag() == "issue-classifier-challenger:abc"
    monkeypatch.setenv(CHALLENGER_TAG_ENV, "none")
    assert config.challenger_tag() is None
