"""VectorDatabase: brute force is exact, our HNSW finds what hnswlib finds at equal M/ef, bad input is refused."""

import numpy as np
import pytest

from src.production.vector_db import VectorDatabase, VectorDBError


def clustered(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(20, dim))
    return (centres[rng.integers(0, 20, n)] + 0.3 * rng.normal(size=(n, dim))).astype(np.float32)


def exact_neighbours(base, queries, k):
    distances = (base**2).sum(1)[None, :] - 2 * queries @ base.T
    return np.argsort(distances, axis=1)[:, :k]


def recall(found: list[list[int]], truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)]))


def test_brute_force_is_exact_for_l2_and_cosine():
    base, queries = clustered(300, 16, 0), clustered(20, 16, 1)
    db = VectorDatabase(16, metric="l2", index="brute")
    db.add([str(i) for i in range(300)], base)
    found = [[int(i) for i, _ in db.search(q, 5)] for q in queries]
    np.testing.assert_array_equal(found, exact_neighbours(base, queries, 5))
    cos = VectorDatabase(16, metric="cosine")
    cos.add([str(i) for i in range(300)], base)
    unit = base / np.linalg.norm(base, axis=1, keepdims=True)
    best, similarity = cos.search(queries[0], 1)[0]
    expected = unit @ (queries[0] / np.linalg.norm(queries[0]))
    assert int(best) == int(np.argmax(expected)) and similarity == pytest.approx(expected.max(), abs=1e-5)


def test_hnsw_recall_matches_hnswlib_at_equal_parameters():
    hnswlib = pytest.importorskip("hnswlib")
    base, queries = clustered(2000, 32, 2), clustered(100, 32, 3)
    truth = exact_neighbours(base, queries, 10)
    db = VectorDatabase(32, metric="l2", index="hnsw", M=8, ef_construction=64, ef=64, seed=0)
    db.add([str(i) for i in range(len(base))], base)
    ours = recall([[int(i) for i, _ in hits] for hits in db.search_batch(queries, 10)], truth)
    reference = hnswlib.Index(space="l2", dim=32)
    reference.init_index(max_elements=len(base), ef_construction=64, M=8, random_seed=0)
    reference.add_items(base)
    reference.set_ef(64)
    theirs = recall(reference.knn_query(queries, k=10)[0].tolist(), truth)
    assert ours >= 0.9 and ours >= theirs - 0.05, (ours, theirs)
    # every node on layer 0 has at most 2M links, and the heuristic never links a node to itself
    layer0 = db.index.links[0]
    assert max(len(v) for v in layer0.values()) <= 16 and all(n not in v for n, v in layer0.items())


def test_delete_save_load_round_trip(tmp_path):
    base = clustered(200, 8, 4)
    db = VectorDatabase(8, metric="cosine", index="hnsw", M=6, ef_construction=32, ef=32)
    db.add([f"v{i}" for i in range(200)], base, metadata=[{"i": i} for i in range(200)])
    top = db.search(base[7], 1)[0][0]
    assert top == "v7"
    db.delete("v7")
    assert "v7" not in [key for key, _ in db.search(base[7], 10)] and len(db) == 199
    db.save(tmp_path / "db.npz")
    loaded = VectorDatabase.load(tmp_path / "db.npz")
    assert loaded.search(base[3], 5) == db.search(base[3], 5)
    assert loaded.get_metadata("v3") == {"i": 3} and len(loaded) == 199
    brute = VectorDatabase(8, index="brute")
    brute.add(["a", "b"], base[:2])
    brute.save(tmp_path / "brute.npz")
    assert VectorDatabase.load(tmp_path / "brute.npz").search(base[1], 1)[0][0] == "b"


def test_bad_input_is_refused_with_a_clear_error(tmp_path):
    db = VectorDatabase(4)
    with pytest.raises(VectorDBError, match="dimension 4"):
        db.add(["a"], np.ones((1, 5)))
    db.add(["a"], np.ones((1, 4)))
    with pytest.raises(VectorDBError, match="already in the database"):
        db.add(["a"], np.ones((1, 4)))
    with pytest.raises(VectorDBError, match="dimension 4"):
        db.search(np.ones(3))
    with pytest.raises(VectorDBError, match="empty"):
        db.search(np.ones((0, 4)))
    with pytest.raises(VectorDBError, match="not in the database"):
        db.delete("zzz")
    with pytest.raises(VectorDBError, match="index must be"):
        VectorDatabase(4, index="ivf")
    corrupt = tmp_path / "corrupt.npz"
    db.save(corrupt)
    corrupt.write_bytes(corrupt.read_bytes()[:100])
    with pytest.raises(VectorDBError, match="not a readable vector database"):
        VectorDatabase.load(corrupt)
