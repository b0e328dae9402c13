"""Verify an embedded data file before anything reads it.

data/raw/MANIFEST.sha256 has one line per file, in the format of shared/data/SOURCES.md's manifest:
`<sha256>  <bytes>  <path relative to data/raw>`. A loader calls `verified_path("mnist/...")` and gets the
path back only if the file exists and its bytes hash to the manifest's value; otherwise a DataIntegrityError
names the file, the expected and the actual hash, and how to restore it.
"""

import hashlib
from pathlib import Path

from src.paths import DATA_RAW, MANIFEST

MANIFEST_HEADER = "# sha256  bytes  path (relative to data/raw). Add files with `python -m src.data.embed PATH`."


class DataIntegrityError(RuntimeError):
    """A raw data file is missing, unlisted or corrupt."""


def sha256_of(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(manifest: Path = MANIFEST) -> dict[str, tuple[str, int]]:
    """{relative path: (sha256, size in bytes)} from a manifest file."""
    if not manifest.exists():
        raise DataIntegrityError(f"checksum manifest {manifest} is missing: restore it with `git checkout`.")
    return parse_manifest(manifest.read_text().splitlines(), origin=str(manifest))


def parse_manifest(lines: list[str], origin: str) -> dict[str, tuple[str, int]]:
    """Manifest lines -> {path: (sha256, bytes)}; blank lines and # comments are skipped, a malformed line
    is reported as <origin>:<line number>."""
    entries = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 3 or len(parts[0]) != 64 or not parts[1].isdigit():
            raise DataIntegrityError(f"{origin}:{number} is not '<sha256>  <bytes>  <path>': {line!r}")
        entries[parts[2]] = (parts[0], int(parts[1]))
    return entries


def verified_path(relative: str, manifest: Path = MANIFEST, root: Path = DATA_RAW) -> Path:
    """Return root/relative after checking it against the manifest; raise DataIntegrityError otherwise."""
    entries = read_manifest(manifest)
    path = root / relative
    restore = f"Restore it with `git checkout -- {path.relative_to(root.parent.parent)}` (provenance: SOURCES.md)."
    if relative not in entries:
        raise DataIntegrityError(f"{relative} is not listed in {manifest}: add it with `python -m src.data.embed`.")
    if not path.exists():
        raise DataIntegrityError(f"data file {path} is missing. {restore}")
    expected, size = entries[relative]
    actual = sha256_of(path)
    if actual != expected:
        raise DataIntegrityError(
            f"data file {path} is corrupt: sha256 expected {expected}, got {actual} "
            f"(size expected {size} bytes, got {path.stat().st_size}). {restore}"
        )
    return path
