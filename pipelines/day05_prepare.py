"""Day 5 data step: verify every embedded CIFAR-10 shard against data/raw/MANIFEST.sha256 and decode the
60,000 JPEGs (and the 5,000 lossless images) once into data/processed/cifar10/cifar10.npz, a DVC output.

    dvc repro day05_prepare            # or: python -m pipelines.day05_prepare

A corrupt or missing shard stops it with the file's path and its expected and actual sha256
(src/data/checksums.py); JPEG test images that are not the lossless subset's pictures stop it too.
"""

from dataclasses import dataclass

import hydra
from omegaconf import DictConfig

from src.config import setting, validate_or_exit
from src.data.cifar10 import prepare

STAGE = "day05_prepare"
SECTION = "day05_data"


@dataclass
class Day05DataConfig:
    max_alignment_mse: float = setting(above=0)


SCHEMA = Day05DataConfig


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    settings = validate_or_exit(cfg, SECTION, SCHEMA)
    print(f"wrote {prepare(max_alignment_mse=settings.max_alignment_mse)}")


if __name__ == "__main__":
    main()
