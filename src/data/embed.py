"""Copy a dataset file from the shared data folder into data/raw/ and record its checksum.

    python -m src.data.embed mnist/t10k-labels-idx1-ubyte.gz [more paths] [--source ../shared/data]

The file is checked against the source's own manifest (the table at the end of its SOURCES.md) before it is
copied, so what lands in git is byte-identical to the verified original.
"""

import argparse
import shutil
from pathlib import Path

from src import atomic_io
from src.data.checksums import MANIFEST_HEADER, DataIntegrityError, parse_manifest, read_manifest, sha256_of
from src.paths import DATA_RAW, MANIFEST, ROOT

DEFAULT_SOURCE = ROOT.parent / "shared" / "data"


def source_manifest(source: Path) -> dict[str, tuple[str, int]]:
    """The '## Manifest' table at the end of source/SOURCES.md, in the same format as ours."""
    table = (source / "SOURCES.md").read_text().split("## Manifest", 1)[1].splitlines()[1:]
    return parse_manifest(table, origin=f"{source / 'SOURCES.md'} (manifest table)")


def embed(relative: str, source: Path = DEFAULT_SOURCE) -> Path:
    expected, size = source_manifest(source).get(relative, (None, None))
    if expected is None:
        raise DataIntegrityError(f"{relative} is not in {source}/SOURCES.md's manifest")
    actual = sha256_of(source / relative)
    if actual != expected:
        raise DataIntegrityError(f"{source / relative}: sha256 expected {expected}, got {actual}")
    target = DATA_RAW / relative
    atomic_io.atomic_write(target, lambda tmp: shutil.copyfile(source / relative, tmp))
    entries = read_manifest(MANIFEST) if MANIFEST.exists() else {}
    entries[relative] = (expected, size)
    lines = [MANIFEST_HEADER] + [f"{sha}  {nbytes}  {path}" for path, (sha, nbytes) in sorted(entries.items())]
    atomic_io.write_text(MANIFEST, "\n".join(lines) + "\n")
    return target


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="paths relative to the source folder")
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    args = parser.parse_args()
    for relative in args.paths:
        print(f"embedded {embed(relative, args.source).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
