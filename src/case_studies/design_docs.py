"""The design documents' generated parts: tables and Mermaid diagrams rendered from the capacity model.

docs/system_design/<design>.md is prose written by hand with generated blocks between markers:

    <!-- generated:rag_capacity -->
    | ... table rendered from the capacity model ... |
    <!-- /generated -->

`render(report)` gives {block name: markdown}; `update(docs_dir, blocks)` rewrites the blocks in place (the
day09 stage does this), and `mismatches(docs_dir, blocks)` lists blocks whose text differs from the model's
(a test fails on any), so a design document can't drift from the numbers it claims.
"""

import re
from pathlib import Path

from src import atomic_io

DOCS = {"rag_at_scale": "rag_at_scale.md", "recommender": "recommender.md", "model_serving": "model_serving.md"}

# The architecture of each design: tiers left to right (the figure and the Mermaid block draw the same graph).
ARCHITECTURES = {
    "rag_at_scale": [
        ["Clients"],
        ["Load balancer"],
        ["Semantic cache"],
        ["MiniLM query encoder + vector index shards x replicas", "BM25 index shards"],
        ["Fusion + rerank"],
        ["LLM API"],
    ],
    "recommender": [
        ["Client request (user id)"],
        ["User tower / user embedding table"],
        ["ANN item index shards x replicas"],
        ["Candidates -> ranking model"],
        ["Business rules + response"],
    ],
    "model_serving": [
        ["Clients"],
        ["Load balancer"],
        ["Adaptive batcher (per replica)"],
        ["Model replicas (2-core workers)"],
        ["Prediction log -> monitoring"],
    ],
}

BLOCK = re.compile(r"<!-- generated:(?P<name>[a-z0-9_]+) -->\n(?P<body>.*?)<!-- /generated -->", re.S)


def _n(value: float, digits: int = 3) -> str:
    """A number as a reader wants it: thousands separated, 3 significant digits below 1,000."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def _money(value: float) -> str:
    return f"${value / 1e6:,.2f}M" if abs(value) >= 1e6 else f"${value:,.0f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def mermaid(tiers: list[list[str]]) -> str:
    ids = [[f"n{i}_{j}" for j in range(len(tier))] for i, tier in enumerate(tiers)]
    lines = ["```mermaid", "flowchart LR"]
    for tier_ids, tier in zip(ids, tiers, strict=True):
        lines += [f'    {node}["{label}"]' for node, label in zip(tier_ids, tier, strict=True)]
    for left, right in zip(ids, ids[1:], strict=False):
        lines += [f"    {a} --> {b}" for a in left for b in right]
    return "\n".join(lines) + "\n```\n"


def render(report: dict) -> dict[str, str]:
    """{block name: markdown} from the capacity report (the stage's capacity.json)."""
    inputs, rag, serving, rec = report["inputs"], report["rag"], report["serving"], report["recommender"]
    sources = report["sources"]
    blocks = {f"{name}_diagram": mermaid(tiers) for name, tiers in ARCHITECTURES.items()}
    blocks["measured_inputs"] = _table(
        ["input", "value", "file", "key"],
        [[name, _n(inputs[name]), f"`{s['file']}`", f"`{s['key']}`"] for name, s in sources.items()],
    )
    blocks["rag_capacity"] = _table(
        ["cache hit rate", "QPS to index", "index GiB", "shards", "replicas", "nodes", "cores", "LLM $/month"],
        [
            [
                f"{r['cache_hit_rate']:.0%}",
                _n(r["qps_to_index"]),
                _n(r["index_gib"]),
                str(r["shards"]),
                str(r["replicas"]),
                str(r["nodes"]),
                _n(r["cores"]),
                _money(r["llm_cost_per_month"]),
            ]
            for r in rag["by_cache_hit_rate"]
        ],
    )
    blocks["rag_summary"] = _table(
        ["quantity", "value"],
        [
            ["vectors", _n(rag["vectors"])],
            ["one core's queries/s on the full index", _n(rag["per_core_qps_at_full_index"])],
            ["recall@10 of the measured search", _n(rag["recall_at_10"])],
            ["LLM tokens per month (no cache)", _n(rag["by_cache_hit_rate"][0]["llm_tokens_per_month"])],
        ],
    )
    blocks["serving_options"] = _table(
        [
            "batch size",
            "ms per batch",
            "req/s per replica",
            "replicas",
            "batch fill wait ms",
            "p99 bound ms",
            "meets p99",
        ],
        [
            [
                str(o["batch_size"]),
                _n(o["ms_per_batch"]),
                _n(o["replica_capacity_rps"]),
                str(o["replicas"]),
                _n(o["fill_wait_ms"]),
                _n(o["p99_bound_ms"]),
                _n(o["meets_p99"]),
            ]
            for o in serving["options"]
        ],
    )
    chosen = serving["chosen"]
    blocks["serving_summary"] = _table(
        ["quantity", "value"],
        [
            ["chosen batch size", str(chosen["batch_size"]) if chosen else "none meets the p99 target"],
            ["replicas", str(serving.get("replicas", "n/a"))],
            ["cores", _n(serving.get("cores"))],
            ["model memory over all replicas (GiB)", _n(serving.get("model_memory_gib"))],
        ],
    )
    blocks["serving_load_test"] = _table(
        ["clients", "measured req/s (1 replica)", "measured p50 ms", "measured p99 ms", "errors"],
        [
            [str(r["clients"]), _n(r["throughput_rps"]), _n(r["p50_ms"]), _n(r["p99_ms"]), str(r["errors"])]
            for r in serving["load_test"]
        ],
    )
    blocks["recommender_capacity"] = _table(
        ["quantity", "value"],
        [
            ["user embeddings (GiB)", _n(rec["user_embeddings_gib"])],
            ["item embeddings (GiB)", _n(rec["item_embeddings_gib"])],
            ["index bytes per item", _n(rec["index_bytes_per_item"])],
            ["item index (GiB)", _n(rec["retrieval_index_gib"])],
            ["index shards", str(rec["retrieval_shards"])],
            ["one core's queries/s per shard", _n(rec["retrieval_per_core_qps_per_shard"])],
            ["replicas", str(rec["retrieval_replicas"])],
            ["retrieval cores", _n(rec["retrieval_cores"])],
            ["candidates scored per second", _n(rec["candidates_per_second"])],
        ],
    )
    return blocks


def _blocks_in(text: str) -> dict[str, str]:
    return {m["name"]: m["body"] for m in BLOCK.finditer(text)}


def mismatches(docs_dir: Path, blocks: dict[str, str]) -> list[str]:
    """Generated blocks whose text in the docs differs from `blocks` (or that no document holds)."""
    found = {}
    for name in DOCS.values():
        path = Path(docs_dir) / name
        if path.exists():
            found.update(_blocks_in(path.read_text()))
    return sorted(name for name, body in blocks.items() if found.get(name) != body)


def update(docs_dir: Path, blocks: dict[str, str]) -> list[Path]:
    """Rewrite every generated block the documents hold; returns the files changed."""
    changed = []
    for name in DOCS.values():
        path = Path(docs_dir) / name
        if not path.exists():
            raise FileNotFoundError(f"design document {path} is missing: restore it with `git checkout`")
        text = path.read_text()
        new = BLOCK.sub(
            lambda m: f"<!-- generated:{m['name']} -->\n{blocks.get(m['name'], m['body'])}<!-- /generated -->", text
        )
        if new != text:
            atomic_io.write_text(path, new)
            changed.append(path)
    return changed
