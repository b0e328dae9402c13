"""Package stage: the registry's champion into the BentoML store, and a Bento built from bentofile.yaml, offline.

    dvc repro package                       # after day10_capstone (it depends on champion.json)
    python -m pipelines.package             # straight from conf/
    make serve                              # then serve the Bento this stage built

Its settings are the `serving` group (conf/serving/default.yaml): they are the service's, which it reads at run
time from the params.yaml the Bento ships; this stage validates them and builds the Bento that carries them.
Writes reports/package/bento.json (bento tag, model tag, registry version, sizes) and metrics.json; the MLflow
run (experiment `package`) records the same and tags the registry version it packaged.
"""

import sys
import time

import hydra
from omegaconf import DictConfig

from src.capstone.outputs import read_champion
from src.capstone.registry import CHAMPION, MODEL_NAME, registered_champion
from src.config import validate_or_exit
from src.production.bento_store import build_bento, folder_bytes, import_champion, registered_challenger
from src.production.rollout import CHALLENGER
from src.production.serving_config import ServingConfig
from src.tracking import StageRun

STAGE = "package"
SECTION = "serving"
SCHEMA = ServingConfig


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    serving = validate_or_exit(cfg, SECTION, SCHEMA)
    try:  # before any run starts: no champion yet is a message to the user, not a failed run
        reported = read_champion()
    except FileNotFoundError as error:
        sys.exit(f"package: {error}")
    with StageRun(STAGE, cfg, SECTION, serving) as run:
        champion = registered_champion(reported_version=reported.get("version"))
        started = time.perf_counter()
        model = import_champion(
            f"models:/{MODEL_NAME}@{CHAMPION}",
            serving.model_name,
            labels={"registry_version": str(champion.version), "mlflow_run_id": champion.run_id},
            metadata={"registry_name": MODEL_NAME, "source": champion.source, "tags": dict(champion.tags)},
        )
        # The A/B challenger, when someone set the alias: the service routes between the two by Thompson sampling.
        challenger = registered_challenger(MODEL_NAME)
        challenger_model = None
        if challenger is not None:
            challenger_model = import_champion(
                f"models:/{MODEL_NAME}@{CHALLENGER}",
                f"{serving.model_name}-{CHALLENGER}",
                labels={"registry_version": str(challenger.version), "mlflow_run_id": challenger.run_id},
                metadata={"registry_name": MODEL_NAME, "source": challenger.source, "tags": dict(challenger.tags)},
            )
        import_seconds = time.perf_counter() - started
        started = time.perf_counter()
        bento = build_bento(model.tag, challenger_model.tag if challenger_model else None)
        build_seconds = time.perf_counter() - started

        summary = {
            "bento_tag": str(bento.tag),
            "model_tag": str(model.tag),
            "registry_name": MODEL_NAME,
            "registry_version": str(champion.version),
            "challenger_model_tag": str(challenger_model.tag) if challenger_model else None,
            "challenger_registry_version": str(challenger.version) if challenger else None,
            "bento_bytes": folder_bytes(bento.path),
            "model_bytes": folder_bytes(model.path),
            "serve_command": f"bentoml serve {bento.tag} --host 127.0.0.1 --port 3000",
        }
        run.write_json("bento.json", summary)
        run.set_tags({"registry_version": summary["registry_version"], "bento_tag": summary["bento_tag"]})
        run.log_metrics(
            {
                "registry_version": float(champion.version),
                "bento_mb": summary["bento_bytes"] / 2**20,
                "model_mb": summary["model_bytes"] / 2**20,
                "import_seconds": import_seconds,
                "build_seconds": build_seconds,
            },
            variant="bento",
        )
        arms = f"registry version {champion.version}" + (f", challenger {challenger.version}" if challenger else "")
        print(f"built {bento.tag} around {model.tag} ({arms}): {summary['serve_command']}")


if __name__ == "__main__":
    main()
