"""The `serving` config section (conf/serving/default.yaml), typed.

The package stage reads it from the composed config like every stage. The service reads it from params.yaml,
which the Bento ships (bentofile.yaml includes it), so a served Bento keeps the settings it was built with.
"""

import os
from dataclasses import dataclass, field

from src.paths import PARAMS_FILE, ROOT

LOG_DIR_ENV = "ISSUE_CLASSIFIER_LOG_DIR"  # where the service writes its prediction log (overrides the config)
BATCHING_ENV = "ISSUE_CLASSIFIER_BATCHING"  # "on" / "off": override batching.enabled (the load test uses it)
MODEL_TAG_ENV = "ISSUE_CLASSIFIER_MODEL"  # which BentoML model to serve; default <model_name>:latest


@dataclass
class BatchingConfig:
    enabled: bool = True
    max_batch_size: int = 32
    max_latency_ms: int = 10000

    def __post_init__(self):
        if self.max_batch_size < 2:
            raise ValueError(f"batching.max_batch_size must be >= 2 (BentoML's minimum), got {self.max_batch_size}")
        if self.max_latency_ms < 1:
            raise ValueError(f"batching.max_latency_ms must be >= 1, got {self.max_latency_ms}")


@dataclass
class PredictionLogConfig:
    folder: str = "logs/serving"
    max_bytes: int = 50 * 2**20
    backups: int = 5

    def __post_init__(self):
        if self.max_bytes < 1024 or self.backups < 0:
            raise ValueError(
                f"prediction_log needs max_bytes >= 1024 and backups >= 0, got {self.max_bytes}, {self.backups}"
            )


@dataclass
class LoadTestConfig:
    clients: list[int] = field(default_factory=lambda: [1, 8, 32])
    requests_per_level: int = 400
    seconds_per_level: float = 20.0
    warmup_requests: int = 20
    request_timeout_s: float = 60.0
    server_start_timeout_s: float = 120.0
    batch_sizes: list[int] = field(default_factory=lambda: [1, 2, 4, 8, 16, 32, 64])

    def __post_init__(self):
        if not self.clients or min(self.clients) < 1:
            raise ValueError(f"loadtest.clients must be a non-empty list of positive integers, got {self.clients}")
        if self.requests_per_level < 1 or self.seconds_per_level <= 0:
            raise ValueError("loadtest.requests_per_level and loadtest.seconds_per_level must be positive")
        if not self.batch_sizes or min(self.batch_sizes) < 1:
            raise ValueError(f"loadtest.batch_sizes must be positive integers, got {self.batch_sizes}")


@dataclass
class ServingConfig:
    model_name: str = "issue-classifier"
    max_text_bytes: int = 65536
    max_batch_items: int = 64
    api_key_env: str = "ISSUE_CLASSIFIER_API_KEY"
    batching: BatchingConfig = field(default_factory=BatchingConfig)
    workers: int = 1
    prediction_log: PredictionLogConfig = field(default_factory=PredictionLogConfig)
    loadtest: LoadTestConfig = field(default_factory=LoadTestConfig)

    def __post_init__(self):
        if self.max_text_bytes < 1 or self.max_batch_items < 1 or self.workers < 1:
            raise ValueError("max_text_bytes, max_batch_items and workers must all be >= 1")
        if not self.api_key_env:
            raise ValueError("api_key_env must name an environment variable (the key itself never goes in conf/)")

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


def load_serving_config(params_file=PARAMS_FILE) -> ServingConfig:
    """The `serving` section of params.yaml, checked (a ConfigError names a bad key)."""
    from omegaconf import OmegaConf

    from src.config import validate

    return validate(OmegaConf.load(params_file), "serving", ServingConfig)
