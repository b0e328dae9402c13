"""The design documents say what the capacity model computes: their generated blocks equal its rendering."""

import dataclasses

from hydra import compose, initialize_config_dir

import pipelines.day09_case_studies as day09
from src.case_studies import capacity, design_docs
from src.config import validate
from src.paths import CONF_DIR, ROOT


def model_blocks():
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", ["profile=cpu"])
    settings = validate(cfg, day09.SECTION, day09.SCHEMA)
    return design_docs.render(capacity.capacity_report(dataclasses.asdict(settings.capacity), ROOT))


def test_docs_agree_with_the_capacity_model():
    stale = design_docs.mismatches(ROOT / "docs" / "system_design", model_blocks())
    assert not stale, (
        f"docs/system_design blocks {stale} differ from the capacity model: run `dvc repro day09_case_studies`"
    )


def test_a_changed_number_is_caught_and_update_repairs_it(tmp_path):
    blocks = model_blocks()
    for name in design_docs.DOCS.values():
        (tmp_path / name).write_text((ROOT / "docs" / "system_design" / name).read_text())
    doc = tmp_path / design_docs.DOCS["rag_at_scale"]
    doc.write_text(doc.read_text().replace("| 0% |", "| 1% |"))
    assert "rag_capacity" in design_docs.mismatches(tmp_path, blocks)
    design_docs.update(tmp_path, blocks)
    assert design_docs.mismatches(tmp_path, blocks) == []


def test_mermaid_draws_every_tier_edge():
    text = design_docs.mermaid([["a"], ["b", "c"], ["d"]])
    assert text.startswith("```mermaid\nflowchart LR") and text.count("-->") == 4
