"""Which files of src/ a stage script can import, found by reading the code (nothing is executed).

DVC reruns a stage only when one of its listed deps changes. A module the stage imports but doesn't list is a
silent hole: edit it, `dvc repro` says "nothing to do", and the results on disk no longer come from the code.
`tests/test_stage_dependencies.py` uses this to prove that every stage's deps cover its import closure.

Every `import` and `from ... import` anywhere in a file counts (also those inside functions, which stages use
to keep start-up fast), and a package's `__init__.py` counts when anything below it is imported.
"""

import ast
from pathlib import Path


def _module_file(root: Path, dotted: str) -> Path | None:
    base = root.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_names(path: Path) -> set[str]:
    """Dotted names a file imports: `import a.b` -> a.b; `from a.b import c` -> a.b and a.b.c (c may be a module)."""
    names = set()
    package = ".".join(path.with_suffix("").parts)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from .x import y, counted from the file's own package
                parts = package.split(".")[: -node.level]
                base = ".".join([*parts, node.module] if node.module else parts)
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_closure(script: Path, root: Path, package: str = "src") -> set[Path]:
    """Files of `package` (under `root`) reachable by imports from `script`, as paths relative to `root`."""
    seen: set[Path] = set()
    todo = [Path(script)]
    while todo:
        current = todo.pop()
        for name in _imported_names(current.relative_to(root) if current.is_absolute() else current):
            if name != package and not name.startswith(f"{package}."):
                continue
            parts = name.split(".")
            for depth in range(1, len(parts) + 1):  # src/__init__.py, src/ml/__init__.py, ... and the module
                found = _module_file(root, ".".join(parts[:depth]))
                if found is not None and found.relative_to(root) not in seen:
                    seen.add(found.relative_to(root))
                    todo.append(found)
    return seen
