"""Re-ranking helpers: the dev split holds queries out, hard negatives are never relevant documents, and the
re-ranked run moves only the top `depth` documents."""

import numpy as np
import pytest

from src.llm.ir_metrics import ranking
from src.llm.rerank import candidate_pairs, dev_split, hard_negative_groups, interpolate, rerank


def test_dev_split_is_seeded_disjoint_and_complete():
    ids = [str(i) for i in range(20)]
    fit, dev = dev_split(ids, 0.25, seed=0)
    assert len(dev) == 5 and not set(fit) & set(dev) and set(fit) | set(dev) == set(ids)
    assert dev_split(ids, 0.25, seed=0) == (fit, dev) and dev_split(ids, 0.25, seed=1)[1] != dev
    with pytest.raises(ValueError, match="fraction"):
        dev_split(ids, 1.0, seed=0)


def test_hard_negatives_are_top_unjudged_candidates():
    texts = {d: f"text {d}" for d in "abcdefg"}
    qrels = {"q": {"a": 1, "c": 1, "b": 0}}
    candidates = {"q": {"b": 9.0, "c": 8.0, "d": 7.0, "e": 6.0, "f": 5.0}}
    groups = hard_negative_groups(["q"], {"q": "query"}, texts, qrels, candidates, per_group=2)
    # b is judged non-relevant (0): a negative like any unjudged one; c is relevant: never a negative
    assert groups == [("query", ["text a", "text b", "text d"]), ("query", ["text c", "text b", "text d"])]
    drawn = hard_negative_groups(["q"], {"q": "query"}, texts, qrels, candidates, 3, np.random.default_rng(0))
    assert all(
        len(set(docs[1:])) == 3 and set(docs[1:]) <= {"text b", "text d", "text e", "text f"} for _, docs in drawn
    )
    short = hard_negative_groups(["q"], {"q": "query"}, texts, qrels, {"q": {"d": 1.0}}, per_group=3)
    assert short[0][1][1:] == ["text d", "text b", "text e"]  # topped up from non-relevant documents


def test_rerank_orders_the_head_by_the_cross_encoder_and_keeps_the_tail():
    run = {"q": {"a": 5.0, "b": 4.0, "c": 3.0, "d": 2.0, "e": 1.0}}
    keys, queries, docs = candidate_pairs(run, {"q": "query"}, {d: d.upper() for d in "abcde"}, depth=3)
    assert keys == [("q", "a"), ("q", "b"), ("q", "c")] and docs == ["A", "B", "C"] and queries == ["query"] * 3
    ce = {("q", "a"): -1.0, ("q", "b"): 0.5, ("q", "c"): 3.0}
    assert ranking(rerank(run, ce, 3)["q"]) == ["c", "b", "a", "d", "e"]
    assert ranking(interpolate(run, ce, 3, 0.0)["q"]) == ["a", "b", "c", "d", "e"]
    # w = 0.5: a = 0.5*1 + 0.5*0 = 0.5, b = 0.5*0.5 + 0.5*(1.5/4) = 0.4375, c = 0.5*0 + 0.5*1 = 0.5 (tie: by id)
    blended = interpolate(run, ce, 3, 0.5)["q"]
    assert blended["a"] == pytest.approx(2.5) and blended["b"] == pytest.approx(2.4375)
    with pytest.raises(ValueError, match="weight"):
        interpolate(run, ce, 3, 1.5)
