"""Write files so that a reader (DVC, a person, the next stage) never sees half of one.

Each writer fills a temporary file in the same folder and renames it over the target: on POSIX a rename
within one file system is atomic, so the target is either the old complete file or the new complete file.

Guarantees:
- the target is never half-written, whatever happens to the process (an exception, SIGTERM, SIGKILL, power cut);
- the file gets the permissions any new file gets under the process's umask (0644 under the usual 022), not the
  0600 that `mkstemp` gives its temporary file;
- a temporary file is named `.<target>.<pid>.<random>.tmp`: when a process dies before its rename (SIGKILL),
  `remove_orphaned_temporaries` recognises the leftover by the dead pid and deletes it.
"""

import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

_TEMPORARY = re.compile(r"^\..+\.(\d+)\.[^.]+\.tmp$")


def _umask() -> int:
    mask = os.umask(0)  # the only way to read it is to set it; put it straight back
    os.umask(mask)
    return mask


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp_path)`, then move tmp_path onto `path`. On any error the target is untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(path: Path, text: str) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(path: Path, data) -> Path:
    return write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def save_figure(fig, path: Path, dpi: int = 110) -> Path:
    """Save a matplotlib figure as PNG (format given explicitly: the temporary name ends in .tmp)."""
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_orphaned_temporaries(folder: Path) -> list[Path]:
    """Delete the temporary files under `folder` whose writing process is gone; return what was deleted."""
    removed = []
    if not Path(folder).is_dir():
        return removed
    for candidate in Path(folder).rglob(".*.tmp"):
        match = _TEMPORARY.match(candidate.name)
        if match and candidate.is_file() and not _alive(int(match.group(1))):
            candidate.unlink(missing_ok=True)
            removed.append(candidate)
    return removed
