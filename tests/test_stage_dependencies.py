"""Every DVC stage lists, among its deps, every src/ file it can import: a change there reruns the stage."""

import re
from pathlib import Path

import pytest
import yaml

from src.import_closure import import_closure
from src.paths import ROOT

STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def covered(path: Path, deps: list[str]) -> bool:
    return any(path == Path(dep) or Path(dep) in path.parents for dep in deps)


@pytest.mark.parametrize("name", sorted(STAGES))
def test_deps_cover_the_import_closure(name):
    stage = STAGES[name]
    module = re.search(r"python -m (pipelines\.\w+)", stage["cmd"])
    assert module, f"stage {name}: cmd should run `python -m pipelines.<script>`"
    script = Path(*module.group(1).split(".")).with_suffix(".py")
    deps = [d if isinstance(d, str) else next(iter(d)) for d in stage["deps"]]
    assert str(script) in deps, f"stage {name} does not list its own script {script}"
    missing = sorted(str(p) for p in import_closure(ROOT / script, ROOT) if not covered(p, deps))
    assert not missing, f"stage {name} imports these but does not list them in dvc.yaml deps: {missing}"


def test_closure_follows_lazy_and_package_imports(tmp_path):
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "__init__.py").write_text("")
    (tmp_path / "src" / "pkg" / "__init__.py").write_text("from .inner import f\n")
    (tmp_path / "src" / "pkg" / "inner.py").write_text("def f():\n    import src.lazy\n")
    (tmp_path / "src" / "lazy.py").write_text("import numpy\n")
    (tmp_path / "src" / "unused.py").write_text("")
    script = tmp_path / "stage.py"
    script.write_text("from src.pkg import f\n")
    found = {str(p) for p in import_closure(script, tmp_path)}
    assert found == {"src/__init__.py", "src/pkg/__init__.py", "src/pkg/inner.py", "src/lazy.py"}


def test_readme_code_map_is_current():
    """The README's map (every module each stage runs) is generated: `python -m src.import_closure` prints it."""
    from src.import_closure import MAP_END, MAP_START, code_map

    readme = (ROOT / "README.md").read_text()
    assert MAP_START in readme and MAP_END in readme, "README.md lacks the code map markers"
    current = readme.split(MAP_START, 1)[1].split(MAP_END, 1)[0].strip()
    assert current == code_map(ROOT), "the README's code map is stale: paste the output of `python -m src.import_closure`"
