"""A small vector database: add, search, delete, save and load, over a brute-force or an HNSW index.

    from src.production.vector_db import VectorDatabase
    db = VectorDatabase(dim=384, metric="cosine", index="hnsw", M=16, ef_construction=100, ef=64)
    db.add(["doc1", "doc2"], vectors)               # float vectors, one row per id
    db.search(query_vector, k=10)                   # [(id, similarity or distance), ...] best first
    db.delete("doc1"); db.save("index.npz"); VectorDatabase.load("index.npz")

HNSW (Malkov & Yashunin, "Efficient and robust approximate nearest neighbor search using Hierarchical Navigable
Small World graphs", TPAMI 2018), from scratch:
- every vector gets a top layer l = floor(-ln(U) * mL), mL = 1/ln(M) (Alg. 1): layer 0 holds everything, each
  layer above about 1/M of the one below, so a search starts coarse and refines (a skip list over a graph);
- insertion: greedy descent (ef=1) from the entry point down to layer l+1, then on each layer <= l a beam search
  with ef_construction candidates (Alg. 2) and M neighbours chosen by the heuristic (Alg. 4): a candidate is kept
  only if it is closer to the new vector than to every neighbour kept so far, which keeps links pointing in
  different directions (long-range links survive; a cluster does not eat all M slots);
- links are made both ways; a node with more than M_max links (2M on layer 0, M above) is pruned with the same
  heuristic;
- search: greedy descent to layer 1, then a beam of width ef on layer 0; larger ef, higher recall, slower.
Deletion marks a node deleted: it is still traversed (the graph stays connected) but never returned.

Distances: "l2" is the squared Euclidean distance (search returns it, smaller is nearer); "cosine" normalises
vectors at insertion and returns the cosine similarity (larger is nearer). The two share one code path: for unit
vectors ||x - y||^2 = 2 - 2 cos(x, y).
"""

import heapq
import json
import math
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from src import atomic_io

FORMAT_VERSION = 1


class VectorDBError(ValueError):
    """Bad input to the vector database: wrong dimension, unknown id, empty query, corrupt file."""


class BruteForceIndex:
    """Exact search: every stored vector scored against the query (one matrix-vector product)."""

    def __init__(self, dim: int):
        self.vectors = np.zeros((0, dim), dtype=np.float32)
        self.sq_norms = np.zeros(0, dtype=np.float32)
        self.alive = np.zeros(0, dtype=bool)

    def add(self, vectors: np.ndarray) -> None:
        self.vectors = np.vstack([self.vectors, vectors])
        self.sq_norms = np.concatenate([self.sq_norms, np.einsum("ij,ij->i", vectors, vectors)])
        self.alive = np.concatenate([self.alive, np.ones(len(vectors), dtype=bool)])

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        distances = self.sq_norms - 2 * (self.vectors @ query) + query @ query
        distances[~self.alive] = np.inf
        k = min(k, int(self.alive.sum()))
        if k == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        part = np.argpartition(distances, k - 1)[:k]
        order = np.argsort(distances[part], kind="stable")
        return part[order], distances[part[order]]

    def delete(self, node: int) -> None:
        self.alive[node] = False


class HNSWIndex:
    """Hierarchical navigable small-world graph over squared L2 distance (see the module docstring)."""

    def __init__(self, dim: int, M: int = 16, ef_construction: int = 100, ef: int = 64, seed: int = 0):
        if M < 2 or ef_construction < 1 or ef < 1:
            raise VectorDBError(f"HNSW needs M >= 2, ef_construction >= 1, ef >= 1; got {M}, {ef_construction}, {ef}")
        self.dim, self.M, self.ef_construction, self.ef = dim, M, ef_construction, ef
        self.max_links = (2 * M, M)  # layer 0, layers above (the paper's M_max0 = 2M)
        self.level_mult = 1 / math.log(M)
        self.rng = np.random.default_rng(seed)
        self.capacity = 1024
        self.vectors = np.zeros((self.capacity, dim), dtype=np.float32)
        self.sq_norms = np.zeros(self.capacity, dtype=np.float32)
        self.alive = np.zeros(self.capacity, dtype=bool)
        self.levels: list[int] = []
        self.links: list[dict[int, list[int]]] = []  # per layer: node -> neighbour list
        self.entry = -1
        self.size = 0

    # -- distances --------------------------------------------------------------------------------------
    def _distances(self, query: np.ndarray, q_sq: float, nodes) -> np.ndarray:
        nodes = np.asarray(nodes, dtype=np.int64)
        return self.sq_norms[nodes] - 2 * (self.vectors[nodes] @ query) + q_sq

    # -- search -----------------------------------------------------------------------------------------
    def _search_layer(self, query, q_sq, entries: list[tuple[float, int]], ef: int, layer: int):
        """Beam search on one layer (Alg. 2): returns up to ef (distance, node), nearest first."""
        visited = {node for _, node in entries}
        candidates = list(entries)
        heapq.heapify(candidates)
        results = [(-d, n) for d, n in entries]  # max-heap by distance
        heapq.heapify(results)
        while len(results) > ef:
            heapq.heappop(results)
        graph = self.links[layer]
        while candidates:
            dist, node = heapq.heappop(candidates)
            if dist > -results[0][0] and len(results) >= ef:
                break
            fresh = [n for n in graph.get(node, ()) if n not in visited]
            if not fresh:
                continue
            visited.update(fresh)
            for d, n in zip(self._distances(query, q_sq, fresh).tolist(), fresh, strict=True):
                if len(results) < ef or d < -results[0][0]:
                    heapq.heappush(candidates, (d, n))
                    heapq.heappush(results, (-d, n))
                    if len(results) > ef:
                        heapq.heappop(results)
        return sorted((-d, n) for d, n in results)

    def _greedy_descent(self, query, q_sq, to_layer: int) -> list[tuple[float, int]]:
        entry = [(float(self._distances(query, q_sq, [self.entry])[0]), self.entry)]
        for layer in range(self.levels[self.entry], to_layer, -1):
            entry = self._search_layer(query, q_sq, entry, 1, layer)
        return entry

    def search(self, query: np.ndarray, k: int, ef: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        if self.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        q_sq = float(query @ query)
        entry = self._greedy_descent(query, q_sq, 0)
        found = self._search_layer(query, q_sq, entry, max(ef or self.ef, k), 0)
        found = [(d, n) for d, n in found if self.alive[n]][:k]
        return np.array([n for _, n in found], dtype=np.int64), np.array([d for d, _ in found], dtype=np.float32)

    # -- insertion --------------------------------------------------------------------------------------
    def _select_neighbours(self, candidates: list[tuple[float, int]], m: int) -> list[int]:
        """The heuristic of Alg. 4 (without extending candidates, keeping pruned connections off): walk the
        candidates nearest first; keep one if it is nearer to the base vector than to every one kept already."""
        if len(candidates) <= m:
            return [n for _, n in candidates]
        nodes = [n for _, n in candidates]
        base_dist = [d for d, _ in candidates]
        vectors = self.vectors[nodes]
        sq = self.sq_norms[nodes]
        # all pairwise squared distances at once, then a plain-Python walk (tiny numpy calls cost more than this)
        pairwise = (sq[:, None] + sq[None, :] - 2 * (vectors @ vectors.T)).tolist()
        kept: list[int] = []
        for i, row in enumerate(pairwise):
            if all(row[j] >= base_dist[i] for j in kept):
                kept.append(i)
                if len(kept) == m:
                    break
        return [nodes[i] for i in kept]

    def _grow(self) -> None:
        self.capacity *= 2
        for name in ("vectors", "sq_norms", "alive"):
            old = getattr(self, name)
            new = np.zeros((self.capacity, *old.shape[1:]), dtype=old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)

    def add(self, vectors: np.ndarray) -> None:
        # One BLAS thread: the products here are tiny (100 x 784), and a multi-threaded BLAS spends more time
        # waking threads than multiplying (30x slower on a busy 2-core machine, measured).
        with threadpool_limits(1):
            for vector in vectors:
                self._insert(vector)

    def _insert(self, vector: np.ndarray) -> None:
        if self.size == self.capacity:
            self._grow()
        node = self.size
        self.vectors[node], self.sq_norms[node], self.alive[node] = vector, vector @ vector, True
        level = int(-math.log(1.0 - self.rng.random()) * self.level_mult)
        self.levels.append(level)
        self.size += 1
        while len(self.links) <= level:
            self.links.append({})
        for layer in range(level + 1):
            self.links[layer][node] = []
        if self.entry < 0:
            self.entry = node
            return
        q_sq = float(self.sq_norms[node])
        top = self.levels[self.entry]
        entry = self._greedy_descent(vector, q_sq, level) if top > level else None
        if entry is None:
            entry = [(float(self._distances(vector, q_sq, [self.entry])[0]), self.entry)]
        for layer in range(min(level, top), -1, -1):
            found = self._search_layer(vector, q_sq, entry, self.ef_construction, layer)
            neighbours = self._select_neighbours(found, self.M)
            graph, limit = self.links[layer], self.max_links[min(layer, 1)]
            graph[node] = neighbours
            for other in neighbours:
                links = graph[other]
                links.append(node)
                if len(links) > limit:
                    dists = self._distances(self.vectors[other], float(self.sq_norms[other]), links)
                    order = np.argsort(dists, kind="stable")
                    graph[other] = self._select_neighbours([(float(dists[i]), links[i]) for i in order], limit)
            entry = found
        if level > top:
            self.entry = node

    def delete(self, node: int) -> None:
        self.alive[node] = False

    # -- persistence ------------------------------------------------------------------------------------
    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(JSON-able settings, arrays): the graph as one flat array of links with offsets per (layer, node)."""
        flat, offsets, owners = [], [0], []
        for layer, graph in enumerate(self.links):
            for node, links in graph.items():
                owners.append((layer, node))
                flat.extend(links)
                offsets.append(len(flat))
        meta = {"M": self.M, "ef_construction": self.ef_construction, "ef": self.ef, "entry": self.entry}
        arrays = {
            "levels": np.array(self.levels, dtype=np.int32),
            "links": np.array(flat, dtype=np.int64),
            "link_offsets": np.array(offsets, dtype=np.int64),
            "link_owners": np.array(owners, dtype=np.int64).reshape(-1, 2),
        }
        return meta, arrays

    @classmethod
    def from_state(cls, dim: int, meta: dict, arrays, vectors: np.ndarray, alive: np.ndarray) -> "HNSWIndex":
        index = cls(dim, meta["M"], meta["ef_construction"], meta["ef"])
        index.capacity = max(len(vectors), 1)
        index.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        index.sq_norms = np.einsum("ij,ij->i", index.vectors, index.vectors)
        index.alive = alive.copy()
        index.size = len(vectors)
        index.levels = arrays["levels"].tolist()
        index.entry = int(meta["entry"])
        offsets, flat = arrays["link_offsets"], arrays["links"]
        n_layers = int(arrays["levels"].max()) + 1 if len(vectors) else 0
        index.links = [{} for _ in range(n_layers)]
        for i, (layer, node) in enumerate(arrays["link_owners"].tolist()):
            index.links[layer][node] = flat[offsets[i] : offsets[i + 1]].tolist()
        if len(index.levels) != len(vectors) or (len(vectors) and not 0 <= index.entry < len(vectors)):
            raise VectorDBError("the HNSW graph does not match its vectors")
        return index

    def memory_bytes(self) -> int:
        """Bytes held for the vectors plus the links (8 bytes each as stored, 4 as hnswlib stores them)."""
        n_links = sum(len(links) for graph in self.links for links in graph.values())
        return self.size * (self.dim * 4 + 4) + n_links * 8


class VectorDatabase:
    """Ids and vectors (and optional metadata) over an index; see the module docstring."""

    def __init__(
        self,
        dim: int,
        metric: str = "cosine",
        index: str = "brute",
        M: int = 16,
        ef_construction: int = 100,
        ef: int = 64,
        seed: int = 0,
    ):
        if not isinstance(dim, int) or dim < 1:
            raise VectorDBError(f"dim must be a positive integer, got {dim!r}")
        if metric not in ("cosine", "l2"):
            raise VectorDBError(f"metric must be 'cosine' or 'l2', got {metric!r}")
        if index not in ("brute", "hnsw"):
            raise VectorDBError(f"index must be 'brute' or 'hnsw', got {index!r}")
        self.dim, self.metric, self.kind = dim, metric, index
        self.index = BruteForceIndex(dim) if index == "brute" else HNSWIndex(dim, M, ef_construction, ef, seed)
        self.ids: list[str] = []
        self.positions: dict[str, int] = {}
        self.metadata: list[dict | None] = []

    def __len__(self) -> int:
        return len(self.positions)

    def _prepare(self, vectors, what: str) -> np.ndarray:
        array = np.asarray(vectors, dtype=np.float32)
        if array.ndim == 1:
            array = array[None, :]
        if array.ndim != 2 or array.shape[1] != self.dim:
            raise VectorDBError(f"{what} must have dimension {self.dim}, got an array of shape {np.shape(vectors)}")
        if array.shape[0] == 0:
            raise VectorDBError(f"{what} is empty")
        if not np.all(np.isfinite(array)):
            raise VectorDBError(f"{what} holds NaN or infinite values")
        if self.metric == "cosine":
            norms = np.linalg.norm(array, axis=1, keepdims=True)
            if np.any(norms == 0):
                raise VectorDBError(f"{what} has a zero vector, which has no cosine similarity")
            array = array / norms
        return np.ascontiguousarray(array)

    def add(self, ids, vectors, metadata: list[dict] | None = None) -> None:
        ids = [ids] if isinstance(ids, str) else [str(i) for i in ids]
        array = self._prepare(vectors, "vectors")
        if len(ids) != len(array):
            raise VectorDBError(f"{len(ids)} ids for {len(array)} vectors")
        if duplicate := next((i for i in ids if i in self.positions), None) or (
            len(set(ids)) != len(ids) and "(repeated in this call)"
        ):
            raise VectorDBError(f"id {duplicate} is already in the database: delete it first to replace it")
        if metadata is not None and len(metadata) != len(ids):
            raise VectorDBError(f"{len(metadata)} metadata entries for {len(ids)} vectors")
        start = len(self.ids)
        self.index.add(array)
        for offset, key in enumerate(ids):
            self.positions[key] = start + offset
        self.ids.extend(ids)
        self.metadata.extend(metadata or [None] * len(ids))

    def search(self, query, k: int = 10, ef: int | None = None) -> list[tuple[str, float]]:
        """The k nearest stored ids with their cosine similarity (metric cosine) or squared L2 distance (l2)."""
        if k < 1:
            raise VectorDBError(f"k must be at least 1, got {k}")
        vector = self._prepare(query, "query")[0]
        if self.kind == "hnsw":
            nodes, distances = self.index.search(vector, k, ef)
        else:
            nodes, distances = self.index.search(vector, k)
        values = 1 - distances / 2 if self.metric == "cosine" else distances
        return [(self.ids[n], float(v)) for n, v in zip(nodes, values, strict=True)]

    def search_batch(self, queries, k: int = 10, ef: int | None = None) -> list[list[tuple[str, float]]]:
        """One query at a time (as ann-benchmarks measures), on one BLAS thread."""
        with threadpool_limits(1):
            return [self.search(q, k, ef) for q in self._prepare(queries, "queries")]

    def delete(self, key: str) -> None:
        if key not in self.positions:
            raise VectorDBError(f"id {key!r} is not in the database")
        self.index.delete(self.positions.pop(key))

    def get_metadata(self, key: str) -> dict | None:
        return self.metadata[self.positions[key]]

    # -- persistence ------------------------------------------------------------------------------------
    def save(self, path) -> Path:
        meta = {"format": FORMAT_VERSION, "dim": self.dim, "metric": self.metric, "index": self.kind}
        vectors = self.index.vectors[: len(self.ids)]
        arrays = {"vectors": vectors, "alive": self.index.alive[: len(self.ids)], "ids": np.array(self.ids, dtype=str)}
        if self.kind == "hnsw":
            meta["hnsw"], graph = self.index.state()
            arrays.update(graph)
        arrays["meta"] = np.array(json.dumps({**meta, "metadata": self.metadata}))

        def write(tmp: Path):
            with open(tmp, "wb") as handle:
                np.savez(handle, **arrays)

        return atomic_io.atomic_write(Path(path), write)

    @classmethod
    def load(cls, path) -> "VectorDatabase":
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
            meta = json.loads(str(arrays["meta"]))
            if meta.get("format") != FORMAT_VERSION:
                raise VectorDBError(f"{path}: format {meta.get('format')!r}, this code reads {FORMAT_VERSION}")
            db = cls(meta["dim"], meta["metric"], meta["index"])
            vectors, alive = arrays["vectors"], arrays["alive"]
            if vectors.shape[1:] != (db.dim,) or len(alive) != len(vectors) or len(arrays["ids"]) != len(vectors):
                raise VectorDBError(f"{path}: vectors, ids and flags disagree in shape")
            if db.kind == "hnsw":
                db.index = HNSWIndex.from_state(db.dim, meta["hnsw"], arrays, vectors, alive)
            else:
                db.index.add(vectors)
                db.index.alive = alive.copy()
        except VectorDBError:
            raise
        except Exception as err:  # a truncated zip, a missing array, bad JSON: all mean the file is corrupt
            raise VectorDBError(
                f"{path} is not a readable vector database file ({type(err).__name__}: {err})"
            ) from None
        db.ids = arrays["ids"].tolist()
        db.positions = {key: i for i, key in enumerate(db.ids) if alive[i]}
        db.metadata = meta["metadata"]
        return db
