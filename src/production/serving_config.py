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
class ServingConfig:
    model_name: str = setting(text=True)
    max_text_bytes: int = setting(at_least=1)
    max_batch_items: int = setting(at_least=1)
    # the name of the environment variable holding the key (the key itself never goes in conf/)
    api_key_env: str = setting(text=True)
    batching: BatchingConfig
    workers: int = setting(at_least=1)
    prediction_log: PredictionLogConfig
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


def load_serving_config(params_file=PARAMS_FILE) -> ServingConfig:
    """The `serving` section of params.yaml, checked (a ConfigError names a bad key)."""
    from omegaconf import OmegaConf

    from src.config import validate

    return validate(OmegaConf.load(params_file), "serving", ServingConfig)
