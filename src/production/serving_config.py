"""The `serving` config section (conf/serving/default.yaml), typed.

The package stage reads it from the composed config like every stage (its conf group is `serving`, not
`package`: these are the service's settings, which the service itself reads at run time; the stage only builds
the Bento that carries them). The service reads it from params.yaml,
which the Bento ships (bentofile.yaml includes it), so a served Bento keeps the settings it was built with.
"""

import os
from dataclasses import dataclass

from src.config import setting
from src.paths import PARAMS_FILE, ROOT

LOG_DIR_ENV = "ISSUE_CLASSIFIER_LOG_DIR"  # where the service writes its prediction log (overrides the config)
BATCHING_ENV = "ISSUE_CLASSIFIER_BATCHING"  # "on" / "off": override batching.enabled (the load test uses it)
MODEL_TAG_ENV = "ISSUE_CLASSIFIER_MODEL"  # which BentoML model to serve; default <model_name>:latest
CHALLENGER_TAG_ENV = "ISSUE_CLASSIFIER_CHALLENGER"  # the challenger's BentoML model, or "none"
RATE_LIMIT_ENV = "ISSUE_CLASSIFIER_RATE_LIMIT"  # "off" or "<per_second>,<burst>": override rate_limit
TRACE_FILE_ENV = "ISSUE_CLASSIFIER_TRACE_FILE"  # where spans go (JSON lines); default <log folder>/traces.jsonl
NO_CHALLENGER = "none"


@dataclass
class BatchingConfig:
    enabled: bool
    max_batch_size: int = setting(at_least=2)  # BentoML's minimum
    max_latency_ms: int = setting(at_least=1)


@dataclass
class PredictionLogConfig:
    folder: str = setting(text=True)
    max_bytes: int = setting(at_least=1024)
    backups: int = setting(at_least=0)


@dataclass
class LoadTestConfig:
    clients: list[int] = setting(at_least=1)
    requests_per_level: int = setting(at_least=1)
    seconds_per_level: float = setting(above=0)
    warmup_requests: int = setting(at_least=0)
    request_timeout_s: float = setting(above=0)
    server_start_timeout_s: float = setting(above=0)
    batch_sizes: list[int] = setting(at_least=1)


@dataclass
class ABRoutingConfig:
    redis_url_env: str = setting(text=True)  # the variable holding the Redis URL; unset: no A/B routing
    key_prefix: str = setting(text=True)
    prediction_ttl_s: int = setting(at_least=1)
    redis_timeout_s: float = setting(above=0)
    breaker_failures: int = setting(at_least=1)
    breaker_reset_s: float = setting(above=0)


@dataclass
class RateLimitConfig:
    enabled: bool
    per_second: float = setting(above=0)
    burst: int = setting(at_least=1)


@dataclass
class ModelBreakerConfig:
    failures: int = setting(at_least=1)
    reset_s: float = setting(above=0)


@dataclass
class OnlineFeaturesConfig:
    enabled: bool
    issues_file: str = setting(text=True)
    label_delay_hours: float = setting(at_least=0)
    window: int = setting(at_least=1)


@dataclass
class ServingConfig:
    model_name: str = setting(text=True)
    max_text_bytes: int = setting(at_least=1)
    max_batch_items: int = setting(at_least=1)
    # the name of the environment variable holding the key (the key itself never goes in conf/)
    api_key_env: str = setting(text=True)
    batching: BatchingConfig
    workers: int = setting(at_least=1)
    threads_per_worker: int = setting(at_least=1)
    prediction_log: PredictionLogConfig
    ab_routing: ABRoutingConfig
    rate_limit: RateLimitConfig
    model_breaker: ModelBreakerConfig
    online_features: OnlineFeaturesConfig
    trace_sample_rate: float = setting(at_least=0, at_most=1)
    loadtest: LoadTestConfig

    @property
    def max_body_bytes(self) -> int:
        """The largest request body the service reads (413 past it): a full batch of issues at the text limit,
        twice over for JSON's escaping."""
        return self.max_batch_items * self.max_text_bytes * 2

    # -- what the environment may override at serve time --------------------------------------------------
    def batching_enabled(self) -> bool:
        value = os.environ.get(BATCHING_ENV)
        if value is None:
            return self.batching.enabled
        if value.lower() not in ("on", "off"):
            raise ValueError(f"{BATCHING_ENV} must be 'on' or 'off', got {value!r}")
        return value.lower() == "on"

    def log_folder(self) -> str:
        return os.environ.get(LOG_DIR_ENV) or str(ROOT / self.prediction_log.folder)

    def model_tag(self) -> str:
        return os.environ.get(MODEL_TAG_ENV) or f"{self.model_name}:latest"

    def challenger_tag(self) -> str | None:
        """The challenger's BentoML model tag: CHALLENGER_TAG_ENV ("none": no challenger), else
        <model_name>-challenger:latest when the model store has one (the package stage imports it there when the
        registry has a `challenger` alias; a served Bento's store holds only what it was built with), else None."""
        tag = os.environ.get(CHALLENGER_TAG_ENV)
        if tag is not None:
            return None if tag.lower() == NO_CHALLENGER else tag
        import bentoml
        from bentoml.exceptions import NotFound

        try:
            return str(bentoml.models.get(f"{self.model_name}-challenger:latest").tag)
        except NotFound:
            return None

    def rate_limit_setting(self) -> tuple[float, int] | None:
        """(per_second, burst), or None when the limit is off; RATE_LIMIT_ENV overrides the config."""
        value = os.environ.get(RATE_LIMIT_ENV)
        if value is None:
            return (self.rate_limit.per_second, self.rate_limit.burst) if self.rate_limit.enabled else None
        if value.lower() == "off":
            return None
        try:
            per_second, burst = value.split(",")
            setting = float(per_second), int(burst)
        except ValueError:
            setting = (0.0, 0)
        if setting[0] <= 0 or setting[1] < 1:
            raise ValueError(f"{RATE_LIMIT_ENV} must be 'off' or '<per_second>,<burst>' (e.g. '20,40'), got {value!r}")
        return setting

    def trace_file(self) -> str:
        return os.environ.get(TRACE_FILE_ENV) or os.path.join(self.log_folder(), "traces.jsonl")


def load_serving_config(params_file=PARAMS_FILE) -> ServingConfig:
    """The `serving` section of params.yaml, checked (a ConfigError names a bad key)."""
    from omegaconf import OmegaConf

    from src.config import validate

    return validate(OmegaConf.load(params_file), "serving", ServingConfig)
