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


def _imported_names(root: Path, path: Path) -> set[str]:
    """Dotted names the file `root/path` imports: `import a.b` -> a.b; `from a.b import c` -> a.b and a.b.c (c may
    be a module)."""
    names = set()
    package = ".".join(path.with_suffix("").parts)
    source = (root / path).read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source, filename=str(path))):
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
    script = Path(script)
    todo = [script.relative_to(root) if script.is_absolute() else script]
    while todo:
        current = todo.pop()
        for name in _imported_names(root, current):
            if name != package and not name.startswith(f"{package}."):
                continue
            parts = name.split(".")
            for depth in range(1, len(parts) + 1):  # src/__init__.py, src/ml/__init__.py, ... and the module
                found = _module_file(root, ".".join(parts[:depth]))
                if found is not None and found.relative_to(root) not in seen:
                    seen.add(found.relative_to(root))
                    todo.append(found.relative_to(root))
    return seen


# -- the README's code map: each stage's own modules, generated so it can't drift ------------------------------
SPINE = {"src/tracking.py", "src/tracking_store.py", "src/stop_signals.py", "src/atomic_io.py", "src/config.py"}
MAP_START, MAP_END = "<!-- code-map:start -->", "<!-- code-map:end -->"


def code_map(root: Path) -> str:
    """A Markdown table: for each DVC stage, its script and every src/ module it imports (the shared recording
    spine, paths.py and package __init__ files left out), each a link a newcomer can follow in one hop."""
    import re

    import yaml

    stages = yaml.safe_load((root / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    rows = ["| stage | script | the modules it runs (tests mirror each path under `tests/`) |", "|---|---|---|"]
    for name, stage in stages.items():
        module = re.search(r"python -m (pipelines\.\w+)", stage["cmd"])
        if module is None:
            continue
        script = Path(*module.group(1).split(".")).with_suffix(".py")
        own = sorted(
            str(path)
            for path in import_closure(root / script, root)
            if str(path) not in SPINE and path.name not in ("__init__.py", "paths.py")
        )
        links = ", ".join(f"[`{path.removeprefix('src/')}`]({path})" for path in own)
        rows.append(f"| `{name}` | [`{script}`]({script}) | {links} |")
    return "\n".join(rows)


if __name__ == "__main__":
    from src.paths import ROOT

    print(f"{MAP_START}\n{code_map(ROOT)}\n{MAP_END}")
