"""A capacity model: system-design numbers computed from figures this project measured, not asserted.

    inputs = read_inputs(sources, root)               # {name: float}, each from a (file, key) in the config
    rag = rag_capacity(inputs, RagTargets(...))       # RAG over 1M documents at 1,000 QPS
    serving = serving_capacity(batch_curve, ServingTargets(...), ...)
    recommender = recommender_capacity(inputs, RecommenderTargets(...))

Each input names its source: a JSON file under the project root and a dotted key in it (e.g.
`reports/day07_rag/metrics.json` and `scratch_hnsw.queries_per_second`; a number in a key path indexes a list:
`results.bentoml_batched.2.p99_ms`). A missing file or key fails naming both, so a design can't silently keep
a number that the measurement no longer produces.

The formulas, with the assumptions each rests on (every one is a config value in conf/day09):

Vector search (RAG retrieval, recommender candidate retrieval)
- Index memory = vectors * (dim * bytes_per_value + overhead). The overhead (HNSW's graph links and ids) is
  measured: day 7's bytes per vector minus the measured vectors' own float32 bytes, so an index measured on
  784-dim MNIST vectors sizes one of 384-dim sentence embeddings.
- Search cost per query grows with the index size n: ~log n for HNSW (the graph's greedy descent visits
  O(log n) layers/hops; Malkov and Yashunin, IEEE TPAMI 2020) and ~n for exact search. A throughput q0 measured
  on one core at n0 vectors becomes q(n) = q0 * log(n0)/log(n) or q0 * n0/n.
- Shards = ceil(index memory / (node memory * usable fraction)); every query visits every shard, each shard
  searching n/shards vectors. Replicas of the shard set = max(min_replicas, ceil(QPS_to_index /
  (q(n/shards) * cores_per_node * target_utilisation))). Nodes = shards * replicas.
- A cache that answers a fraction h of queries (a semantic cache, day 7) removes them from retrieval and the
  LLM: both scale with (1 - h).

LLM token cost = QPS * (1 - h) * tokens_per_request * seconds_per_month / 1000 * price_per_1k_tokens.
  The issue's check: 1,000 QPS * 250 tokens * $0.01/1K over 30 days = $6.48M/month (not $5,000).

Model serving with dynamic batching (a replica = the machine of the load test)
- A batch of b requests takes s(b) ms (measured batch curve); a replica serves at most b / s(b) * 1000 req/s.
- Replicas for a QPS target = ceil(QPS / (b / s(b) * 1000 * target_utilisation)).
- p99 latency at batch size b is bounded by: waiting for the batch to fill (b / per-replica arrival rate, at
  most the batcher's max wait) + the batch ahead still in service (s(b)) + its own service (s(b)). The smallest
  replica count whose bound meets the p99 target wins; the load test's measured p99 is reported beside it.
"""

import json
import math
from dataclasses import dataclass
from pathlib import Path

SECONDS_PER_MONTH = 30 * 24 * 3600
GIB = 1024**3


class MeasuredInputError(LookupError):
    """A capacity input's source file or key is missing or not a number; the message names both."""


# -- reading the measured figures ------------------------------------------------------------------------------
def lookup(tree, key: str, source: str):
    """The value at a dotted key. A metrics.json key may itself contain dots (`cv.mean.f1` under a variant), so at
    each level the longest run of segments that names a key wins; a number segment indexes a list."""
    parts = key.split(".")
    node, i = tree, 0
    while i < len(parts):
        if isinstance(node, list):
            if not parts[i].isdigit() or int(parts[i]) >= len(node):
                raise MeasuredInputError(
                    f"{source}: key '{key}': '{parts[i]}' is not an index of a {len(node)}-item list"
                )
            node, i = node[int(parts[i])], i + 1
            continue
        if not isinstance(node, dict):
            raise MeasuredInputError(f"{source}: key '{key}' goes past a value at '{'.'.join(parts[:i])}'")
        for j in range(len(parts), i, -1):
            name = ".".join(parts[i:j])
            if name in node:
                node, i = node[name], j
                break
        else:
            known = ", ".join(sorted(map(str, node))[:12])
            raise MeasuredInputError(
                f"{source}: no key '{key}' (nothing named '{parts[i]}' at that level; has: {known})"
            )
    return node


def read_measured(root: Path, file: str, key: str):
    """One measured value (a number, or a list/dict for curves) from a JSON report under the project root."""
    path = Path(root) / file
    if not path.exists():
        raise MeasuredInputError(
            f"measured input file {file} is missing (looked for {path}): run the stage or benchmark that writes it, "
            "or point the input's `file` in conf/day09 at another report"
        )
    try:
        tree = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise MeasuredInputError(f"measured input file {file} is not valid JSON: {err}") from None
    return lookup(tree, key, file)


def read_inputs(sources: dict[str, dict], root: Path) -> dict[str, float]:
    """{name: number} for sources {name: {"file": ..., "key": ...}}; a non-number is refused naming file and key."""
    values = {}
    for name, source in sources.items():
        value = read_measured(root, source["file"], source["key"])
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise MeasuredInputError(
                f"{source['file']}: key '{source['key']}' (input {name}) is {value!r}, not a number"
            )
        values[name] = float(value)
    return values


# -- vector search -----------------------------------------------------------------------------------------------
def scaled_qps(measured_qps: float, measured_vectors: float, vectors: float, scaling: str) -> float:
    """Per-core queries/s at `vectors` from a measurement at `measured_vectors` (see the module docstring)."""
    if scaling == "log":
        return measured_qps * math.log(max(measured_vectors, 2)) / math.log(max(vectors, 2))
    if scaling == "linear":
        return measured_qps * measured_vectors / vectors
    raise ValueError(f"scaling must be 'log' or 'linear', got {scaling!r}")


def index_bytes_per_vector(inputs: dict[str, float], dim: int, bytes_per_value: int) -> float:
    """One vector's bytes in the index at `dim` x `bytes_per_value`: its values plus the measured per-vector
    overhead of the index structure (graph links, ids), which doesn't depend on the dimension."""
    overhead = max(0.0, inputs["bytes_per_vector"] - inputs["measured_dim"] * 4)
    return dim * bytes_per_value + overhead


@dataclass(frozen=True)
class Cluster:
    node_memory_gib: float  # RAM per search node
    usable_memory_fraction: float  # the part of it an index may fill (OS, buffers, growth)
    cores_per_node: int
    target_utilisation: float  # plan cores to run at most this busy (headroom for peaks and failures)
    min_replicas: int  # copies of every shard, for availability


def search_tier(vectors: float, bytes_per_vector: float, qps: float, per_core_qps, cluster: Cluster) -> dict:
    """Shards, replicas, nodes and cores to search `vectors` at `qps`; per_core_qps(n) gives one core's
    throughput on an n-vector shard."""
    index_bytes = vectors * bytes_per_vector
    shards = max(1, math.ceil(index_bytes / (cluster.node_memory_gib * GIB * cluster.usable_memory_fraction)))
    shard_qps = per_core_qps(vectors / shards)
    replicas = max(
        cluster.min_replicas, math.ceil(qps / (shard_qps * cluster.cores_per_node * cluster.target_utilisation))
    )
    return {
        "index_gib": index_bytes / GIB,
        "shards": shards,
        "per_core_qps_per_shard": shard_qps,
        "replicas": replicas,
        "nodes": shards * replicas,
        "cores": shards * replicas * cluster.cores_per_node,
        "memory_gib_all_replicas": index_bytes * replicas / GIB,
    }


# -- RAG ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RagTargets:
    documents: float
    chunks_per_document: float
    qps: float
    tokens_per_request: float  # prompt (question + retrieved context) + answer, per request that reaches the LLM
    price_per_1k_tokens: float  # $ per 1,000 tokens (a config value: prices change)
    cache_hit_rates: tuple  # the effect of a cache answering this fraction of queries
    embedding_dim: int  # the sentence embedding's dimension (day 7's MiniLM: 384)
    bytes_per_value: int  # 4 for float32, 2 for float16, 1 for int8
    scaling: str  # "log" (HNSW) or "linear" (exact search)


def llm_monthly_cost(qps: float, tokens_per_request: float, price_per_1k_tokens: float, cache_hit_rate: float = 0.0):
    """$ per 30-day month for the requests the cache does not answer."""
    tokens = qps * (1 - cache_hit_rate) * tokens_per_request * SECONDS_PER_MONTH
    return tokens / 1000 * price_per_1k_tokens


def rag_capacity(inputs: dict[str, float], targets: RagTargets, cluster: Cluster) -> dict:
    """The retrieval tier and LLM cost of RAG at the targets, for each cache hit rate. `inputs` needs
    retrieval_qps (one core), retrieval_measured_vectors, bytes_per_vector, measured_dim, recall_at_10.
    Per-core query speed is taken as measured at its dimension (conservative when the embedding is smaller)."""
    vectors = targets.documents * targets.chunks_per_document
    bytes_per_vector = index_bytes_per_vector(inputs, targets.embedding_dim, targets.bytes_per_value)

    def per_core(n):
        return scaled_qps(inputs["retrieval_qps"], inputs["retrieval_measured_vectors"], n, targets.scaling)

    rows = []
    for hit in targets.cache_hit_rates:
        tier = search_tier(vectors, bytes_per_vector, targets.qps * (1 - hit), per_core, cluster)
        rows.append(
            {
                "cache_hit_rate": hit,
                "qps_to_index": targets.qps * (1 - hit),
                **tier,
                "llm_tokens_per_month": targets.qps * (1 - hit) * targets.tokens_per_request * SECONDS_PER_MONTH,
                "llm_cost_per_month": llm_monthly_cost(
                    targets.qps, targets.tokens_per_request, targets.price_per_1k_tokens, hit
                ),
            }
        )
    return {
        "vectors": vectors,
        "index_bytes_per_vector": bytes_per_vector,
        "per_core_qps_at_full_index": per_core(vectors),
        "recall_at_10": inputs["recall_at_10"],
        "by_cache_hit_rate": rows,
    }


# -- model serving -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ServingTargets:
    qps: float
    p99_ms: float
    max_wait_ms: float  # the batcher's longest wait for a batch to fill
    target_utilisation: float


def batch_options(batch_curve: list[dict], targets: ServingTargets) -> list[dict]:
    """For each measured batch size: per-replica capacity, replicas for the QPS target, and the p99 bound."""
    rows = []
    for point in sorted(batch_curve, key=lambda p: p["batch_size"]):
        b, service_ms = float(point["batch_size"]), float(point["ms_per_call"])
        capacity = b / service_ms * 1000
        replicas = math.ceil(targets.qps / (capacity * targets.target_utilisation))
        per_replica_rate = targets.qps / replicas
        fill_ms = 0.0 if b == 1 else min(targets.max_wait_ms, (b - 1) / per_replica_rate * 1000)
        p99 = fill_ms + 2 * service_ms
        rows.append(
            {
                "batch_size": int(b),
                "ms_per_batch": service_ms,
                "replica_capacity_rps": capacity,
                "replicas": replicas,
                "fill_wait_ms": fill_ms,
                "p99_bound_ms": p99,
                "meets_p99": p99 <= targets.p99_ms,
            }
        )
    return rows


def serving_capacity(batch_curve, targets: ServingTargets, replica_cores: float, model_mb: float, load_test: dict):
    """The cheapest batch size meeting the p99 target (fewest replicas, then lowest p99), with the measured
    load test beside the model's single-replica prediction."""
    options = batch_options(batch_curve, targets)
    feasible = [o for o in options if o["meets_p99"]]
    chosen = min(feasible, key=lambda o: (o["replicas"], o["p99_bound_ms"])) if feasible else None
    out = {"options": options, "chosen": chosen, "load_test": load_test}
    if chosen is not None:
        out.update(
            {
                "replicas": chosen["replicas"],
                "cores": chosen["replicas"] * replica_cores,
                "model_memory_gib": chosen["replicas"] * model_mb / 1024,
            }
        )
    return out


# -- two-tower recommender ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RecommenderTargets:
    users: float
    items: float
    embedding_dim: int
    bytes_per_value: int  # 4 for float32, 2 for float16, 1 for int8
    qps: float  # recommendation requests per second
    candidates: int  # items retrieved per request for the ranking stage
    scaling: str


def recommender_capacity(inputs: dict[str, float], targets: RecommenderTargets, cluster: Cluster) -> dict:
    """Embedding tables, the item index and candidate retrieval. The ANN index's per-vector overhead (links,
    ids) is the measured bytes_per_vector minus the measured vectors' own bytes; per-core query speed is taken
    as measured (at its dimension), which is conservative for a smaller embedding."""
    dim_bytes = targets.embedding_dim * targets.bytes_per_value
    bytes_per_item = index_bytes_per_vector(inputs, targets.embedding_dim, targets.bytes_per_value)
    user_table = targets.users * dim_bytes
    item_table = targets.items * dim_bytes

    def per_core(n):
        return scaled_qps(inputs["retrieval_qps"], inputs["retrieval_measured_vectors"], n, targets.scaling)

    tier = search_tier(targets.items, bytes_per_item, targets.qps, per_core, cluster)
    return {
        "user_embeddings_gib": user_table / GIB,
        "item_embeddings_gib": item_table / GIB,
        "index_bytes_per_item": bytes_per_item,
        "candidates_per_second": targets.qps * targets.candidates,
        **{f"retrieval_{k}": v for k, v in tier.items()},
    }


# -- the whole report, from the config section -------------------------------------------------------------------
def capacity_report(cfg: dict, root: Path) -> dict:
    """Read every measured input named in `cfg` (conf/day09's capacity section as a dict) and compute the three
    designs. The result is plain JSON: the stage writes it as capacity.json and renders the design tables."""
    inputs = read_inputs(cfg["inputs"], root)
    batch_curve = read_measured(root, cfg["batch_curve"]["file"], cfg["batch_curve"]["key"])
    load_test = read_measured(root, cfg["load_test"]["file"], cfg["load_test"]["key"])
    for name, value, what in (
        ("batch_curve", batch_curve, ("batch_size", "ms_per_call")),
        ("load_test", load_test, ("clients", "throughput_rps", "p99_ms")),
    ):
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(p, dict) and set(what) <= set(p) for p in value)
        ):
            source = cfg[name]
            raise MeasuredInputError(
                f"{source['file']}: key '{source['key']}' ({name}) must be a non-empty list of objects "
                f"with {list(what)}"
            )
    cluster = Cluster(**cfg["cluster"])
    rag = rag_capacity(
        inputs,
        RagTargets(
            **{**cfg["rag"], "cache_hit_rates": tuple(cfg["rag"]["cache_hit_rates"]), "scaling": cfg["scaling"]}
        ),
        cluster,
    )
    serving = serving_capacity(
        batch_curve,
        ServingTargets(**cfg["serving"]),
        replica_cores=inputs["replica_cores"],
        model_mb=inputs["model_mb"],
        load_test=[
            {k: p.get(k) for k in ("clients", "throughput_rps", "p50_ms", "p99_ms", "errors")} for p in load_test
        ],
    )
    recommender = recommender_capacity(
        inputs, RecommenderTargets(**cfg["recommender"], scaling=cfg["scaling"]), cluster
    )
    return {
        "sources": dict(cfg["inputs"]),
        "inputs": inputs,
        "rag": rag,
        "serving": serving,
        "recommender": recommender,
    }
