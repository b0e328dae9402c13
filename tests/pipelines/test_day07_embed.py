"""day07_embed under profile=smoke: a few documents encoded, unit vectors saved where day07_rag reads them."""

import json

import numpy as np

import pipelines.day07_embed as day07_embed
from src.llm.embeddings import load_embeddings


def test_smoke_embed_writes_unit_vectors_for_docs_and_queries(tracking_store, smoke_config, tmp_path):
    day07_embed.main(smoke_config())
    vectors = tmp_path / "models" / "day07_embed" / day07_embed.OUTPUT
    docs, queries = load_embeddings(vectors, "docs"), load_embeddings(vectors, "queries")
    assert len(docs) == 50 and len(queries) == 1109
    norms = np.linalg.norm(np.stack(list(docs.values())), axis=1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-5)
    metrics = json.loads((tmp_path / "reports" / "day07_embed" / "metrics.json").read_text())
    assert metrics["minilm_encoder"]["docs"] == 50
