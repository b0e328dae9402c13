"""Compose conf/ into params.yaml, the file every DVC stage reads.

    python -m src.params            # recompose params.yaml if conf/ changed (`make params`)
    python -m src.params --check    # exit 1 if params.yaml is stale (CI, tests)

DVC's Hydra integration composes conf/ on `dvc exp run`, but `dvc repro` does not: without this step an edit
to conf/ would be silently ignored. We call DVC's own composer so the file is byte-identical to what
`dvc exp run` writes (no spurious diffs between the two ways of running).
"""

import argparse
import sys
import tempfile
from pathlib import Path

from src import atomic_io
from src.paths import CONF_DIR, PARAMS_FILE


def compose(overrides: list[str] | None = None, conf_dir: Path = CONF_DIR) -> str:
    """The YAML text of conf/config.yaml composed with Hydra `overrides` (e.g. ['profile=smoke'])."""
    from dvc.utils.hydra import compose_and_dump

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "params.yaml"
        compose_and_dump(out, str(conf_dir.resolve()), None, "config", str(conf_dir), list(overrides or []))
        return out.read_text(encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether params.yaml is up to date")
    args = parser.parse_args()
    wanted = compose()
    current = PARAMS_FILE.read_text(encoding="utf-8") if PARAMS_FILE.exists() else ""
    if wanted == current:
        print("params.yaml is up to date with conf/")
        return 0
    if args.check:
        print("params.yaml is stale: run `make params` (or `dvc exp run`) to recompose it from conf/")
        return 1
    atomic_io.write_text(PARAMS_FILE, wanted)
    print("params.yaml recomposed from conf/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
