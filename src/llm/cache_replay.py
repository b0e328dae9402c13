"""A replay of user traffic for the semantic cache: each query asked once, then again reworded (a paraphrase),
and some asked again verbatim, in a shuffled order. The paraphrases are rule-based rewrites (question forms,
dropped final period, lower case, a few synonyms), so a hit on one is a true hit; a hit between two different
claims is a false hit unless they have the same relevant documents.
"""

import re

import numpy as np

SYNONYMS = {
    "increases": "raises",
    "decreases": "lowers",
    "reduces": "lowers",
    "associated": "linked",
    "patients": "people",
    "risk": "likelihood",
    "cells": "cell populations",
    "improves": "enhances",
    "causes": "leads to",
    "higher": "greater",
}
FORMS = ("Is it true that {}?", "Does the evidence show that {}?", "{}", "Check whether {}.")


def paraphrase(text: str, rng: np.random.Generator) -> str:
    body = text.strip().rstrip(".")
    body = re.sub(
        r"\b(\w+)\b", lambda m: SYNONYMS.get(m.group(1), m.group(1)) if rng.random() < 0.7 else m.group(1), body
    )
    body = body[:1].lower() + body[1:] if not body[:2].isupper() else body
    return FORMS[int(rng.integers(len(FORMS)))].format(body)


def build_replay(queries: dict[str, str], repeat_fraction: float, seed: int) -> list[dict]:
    """Events {query_id, text, kind}: kind 'first', 'paraphrase' or 'repeat'. Every paraphrase or repeat comes
    after the first asking of its query, so a cache can only hit on what it has seen."""
    rng = np.random.default_rng(seed)
    ids = list(queries)
    firsts = [{"query_id": q, "text": queries[q], "kind": "first"} for q in ids]
    later = [{"query_id": q, "text": paraphrase(queries[q], rng), "kind": "paraphrase"} for q in ids]
    repeats = rng.choice(ids, size=int(repeat_fraction * len(ids)), replace=False) if ids else []
    later += [{"query_id": q, "text": queries[q], "kind": "repeat"} for q in repeats]
    rng.shuffle(firsts)
    rng.shuffle(later)
    events, position = list(firsts), {e["query_id"]: i for i, e in enumerate(firsts)}
    for event in later:  # insert each later event at a random place after its first asking
        low = position[event["query_id"]] + 1
        at = int(rng.integers(low, len(events) + 1))
        events.insert(at, event)
        position = {e["query_id"]: i for i, e in enumerate(events) if e["kind"] == "first"}
    return events


def replay(cache, events: list[dict], vectors: np.ndarray, relevant: dict[str, frozenset], answer_fn=None) -> dict:
    """Run the events through `cache` (get, and put on a miss). Returns hit rate, false-hit rate (share of hits
    whose cached query has other relevant documents), and the hit rate on paraphrases and repeats."""
    hits = false_hits = 0
    by_kind = {"paraphrase": [0, 0], "repeat": [0, 0], "first": [0, 0]}
    for event, vector in zip(events, vectors, strict=True):
        found = cache.get(vector)
        by_kind[event["kind"]][1] += 1
        if found is not None:
            hits += 1
            by_kind[event["kind"]][0] += 1
            cached_id = found[0]["query_id"] if isinstance(found[0], dict) else found[0]
            false_hits += relevant[cached_id] != relevant[event["query_id"]]
        else:
            answer = answer_fn(event) if answer_fn else {"query_id": event["query_id"]}
            cache.put(event["text"], vector, {**answer, "query_id": event["query_id"]})
    n = len(events)
    return {
        "hit_rate": hits / n,
        "false_hit_rate": false_hits / hits if hits else 0.0,
        "paraphrase_hit_rate": by_kind["paraphrase"][0] / max(by_kind["paraphrase"][1], 1),
        "repeat_hit_rate": by_kind["repeat"][0] / max(by_kind["repeat"][1], 1),
        "false_hits_per_query": false_hits / n,
    }
