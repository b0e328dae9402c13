"""`dvc push` / `dvc pull` to the project's DVC remote, with an error that names the remote when it is missing.

    python -m src.scale.dvc_remote push [TARGET ...]     # `make push`: after `make repro`, share every output
    python -m src.scale.dvc_remote pull [TARGET ...]     # `make pull`: in a fresh clone, then `make repro` is a no-op

Why a wrapper: when a local remote's folder is gone (an unmounted disk, a typo in the path), `dvc pull` only says
"Some of the cache files do not exist neither locally nor on remote ... Is your cache up to date?", naming
neither the remote nor the folder. This checks first that a default remote is set and, for a folder remote, that
the folder exists, and says which remote, where, and what to run. Cloud remotes (s3://, gs://, ssh://, ...) are
left to DVC, which names the bucket or host in its own errors; the README's "Scaling out" has their recipes.
"""

import argparse
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

from src.paths import ROOT


class RemoteError(RuntimeError):
    """The DVC remote can't be used; the message names it and the fix."""


def _dvc(args: list[str], repo: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["dvc", *args], cwd=repo, capture_output=True, text=True)


def default_remote(repo: Path = ROOT) -> tuple[str, str]:
    """(name, url) of the default remote, as `dvc config core.remote` and `dvc config remote.<name>.url` give them
    (the URL as written in .dvc/config, or in .dvc/config.local when set there)."""
    name = _dvc(["config", "core.remote"], repo).stdout.strip()
    if not name:
        raise RemoteError(
            "no default DVC remote is set: add one with `dvc remote add -d storage /path/or/s3://bucket/prefix` "
            "(README, 'Scaling out'), or ask whoever shares this project for theirs."
        )
    url = _dvc(["config", f"remote.{name}.url"], repo)
    if url.returncode != 0 or not url.stdout.strip():
        raise RemoteError(f"the default DVC remote '{name}' is not defined: `dvc remote list` to see which are")
    return name, url.stdout.strip()


def local_folder(url: str, repo: Path = ROOT) -> Path | None:
    """The folder of a local remote (a path or file:// URL; relative paths are relative to .dvc/, as DVC reads
    them from .dvc/config), None for a cloud remote."""
    parsed = urlparse(url)
    if parsed.scheme not in ("", "file") or (len(parsed.scheme) == 1):  # "C:" would parse as a scheme
        return None
    path = Path(parsed.path if parsed.scheme == "file" else url)
    return path if path.is_absolute() else (repo / ".dvc" / path).resolve()


def check(repo: Path = ROOT) -> tuple[str, str]:
    """Raise RemoteError unless the default remote is set and, if it is a folder, exists. Returns (name, url)."""
    name, url = default_remote(repo)
    folder = local_folder(url, repo)
    if folder is not None and not folder.is_dir():
        raise RemoteError(
            f"DVC remote '{name}' is the folder {folder}, which does not exist (a disk not mounted? a wrong path?). "
            f"Mount it, create it (`mkdir -p {folder}`) if it is a new remote, or point the remote elsewhere: "
            f"`dvc remote modify {name} url NEW_PATH`."
        )
    return name, url


def transfer(action: str, targets: list[str], repo: Path = ROOT) -> int:
    """`dvc push|pull TARGETS` after `check`; on a failure, the last lines of DVC's output with the remote named."""
    name, url = check(repo)
    result = subprocess.run(["dvc", action, *targets], cwd=repo, text=True, capture_output=True)
    sys.stdout.write(result.stdout)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        print(f"dvc {action} with remote '{name}' ({url}) failed: see DVC's message above", file=sys.stderr)
    return result.returncode


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["push", "pull"])
    parser.add_argument("targets", nargs="*", help="stages or outputs (default: everything in dvc.yaml)")
    args = parser.parse_args()
    try:
        sys.exit(transfer(args.action, args.targets))
    except RemoteError as error:
        sys.exit(f"dvc {args.action}: {error}")


if __name__ == "__main__":
    main()
