"""Package stage: the registry's champion into the BentoML store, and a Bento built from bentofile.yaml, offline.

    dvc repro package                       # after day10_capstone (it depends on champion.json)
    python -m pipelines.package             # straight from conf/
    make serve                              # then serve the Bento this stage built

Writes reports/package/bento.json (bento tag, model tag, registry version, sizes) and metrics.json; the MLflow
run (experiment `package`) records the same and tags the registry version it packaged.
"""

import json
import time

import hydra
from omegaconf import DictConfig

from src import atomic_io
from src.capstone.registry import CHAMPION, MODEL_NAME, current_champion
from src.config import validate_or_exit
from src.paths import REPORTS
from src.production.bento_store import build_bento, folder_bytes, import_champion
from src.production.serving_config import ServingConfig
from src.tracking import StageRun

STAGE = "package"
CHAMPION_FILE = "day10_capstone/champion.json"  # under reports/: written by the training stage


def champion_in_registry(client):
    """The model version holding `champion`, cross-checked with what the training stage reported."""
    champion_file = REPORTS / CHAMPION_FILE
    if not champion_file.exists():
        raise FileNotFoundError(
            f"{champion_file} is missing: run the training stage first (`dvc repro day10_capstone`)."
        )
    reported = json.loads(champion_file.read_text())
    champion = current_champion(client)
    if champion is None:
        raise LookupError(
            f"the registry at {client.tracking_uri} has no {MODEL_NAME}@{CHAMPION}: run `dvc repro day10_capstone`, "
            "or point MLFLOW_TRACKING_URI at the store it registered in."
        )
    if str(reported.get("version")) != str(champion.version):
        print(f"note: {CHAMPION_FILE} names version {reported.get('version')}; the champion is {champion.version}")
    return champion


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    serving = validate_or_exit(cfg, "serving", ServingConfig)
    with StageRun(STAGE, cfg, section="serving") as run:
        champion = champion_in_registry(run._client)
        started = time.perf_counter()
        model = import_champion(
            f"models:/{MODEL_NAME}@{CHAMPION}",
            serving.model_name,
            labels={"registry_version": str(champion.version), "mlflow_run_id": champion.run_id},
            metadata={"registry_name": MODEL_NAME, "source": champion.source, "tags": dict(champion.tags)},
        )
        import_seconds = time.perf_counter() - started
        started = time.perf_counter()
        bento = build_bento(model.tag)
        build_seconds = time.perf_counter() - started

        summary = {
            "bento_tag": str(bento.tag),
            "model_tag": str(model.tag),
            "registry_name": MODEL_NAME,
            "registry_version": str(champion.version),
            "bento_bytes": folder_bytes(bento.path),
            "model_bytes": folder_bytes(model.path),
            "serve_command": f"bentoml serve {bento.tag} --host 127.0.0.1 --port 3000",
        }
        atomic_io.write_json(run.out_dir / "bento.json", summary)
        run._client.set_tag(run.run_id, "registry_version", summary["registry_version"])
        run._client.set_tag(run.run_id, "bento_tag", summary["bento_tag"])
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
        print(f"built {bento.tag} around {model.tag} (registry version {champion.version}): {summary['serve_command']}")


if __name__ == "__main__":
    main()
