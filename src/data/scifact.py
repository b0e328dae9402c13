"""BEIR SciFact from the embedded files: 5,183 abstracts, 1,109 claims as queries, train and test relevance.

    from src.data.scifact import load_scifact
    data = load_scifact()
    data.doc_ids[0], data.doc_texts[0]          # corpus, in file order; text = title + " " + abstract
    data.queries["1"]                           # claim text by query id
    data.qrels["test"]["1"]                     # {doc id: relevance} for a test query (300 queries, 339 pairs)

Every file is checked against data/raw/MANIFEST.sha256 before it is read (src/data/checksums.py); the layout is
BEIR's (corpus.jsonl.gz, queries.jsonl, qrels/<split>.tsv with a `query-id corpus-id score` header).
data/raw/SOURCES.md section 4 says where the files come from and how they were checked against BEIR.
"""

import gzip
import json
from dataclasses import dataclass

from src.data.checksums import verified_path

FOLDER = "retrieval/scifact"
CORPUS = f"{FOLDER}/corpus.jsonl.gz"
QUERIES = f"{FOLDER}/queries.jsonl"
SPLITS = ("train", "test")


class SciFactFormatError(ValueError):
    """A SciFact file whose content does not have the BEIR layout."""


@dataclass
class SciFact:
    doc_ids: list[str]
    titles: list[str]
    abstracts: list[str]
    queries: dict[str, str]
    qrels: dict[str, dict[str, dict[str, int]]]  # split -> query id -> doc id -> relevance

    @property
    def doc_texts(self) -> list[str]:
        """What BEIR indexes: the title and the abstract, joined by a space."""
        return [f"{title} {text}".strip() for title, text in zip(self.titles, self.abstracts, strict=True)]

    def split_queries(self, split: str) -> dict[str, str]:
        """{query id: text} for the queries that have relevance judgements in `split`, in qrels order."""
        return {qid: self.queries[qid] for qid in self.qrels[split]}


def read_qrels(lines: list[str], origin: str) -> dict[str, dict[str, int]]:
    if not lines or lines[0].split("\t") != ["query-id", "corpus-id", "score"]:
        raise SciFactFormatError(f"{origin}: expected the header 'query-id corpus-id score', got {lines[:1]!r}")
    qrels: dict[str, dict[str, int]] = {}
    for number, line in enumerate(lines[1:], start=2):
        parts = line.split("\t")
        if len(parts) != 3 or not parts[2].strip().lstrip("-").isdigit():
            raise SciFactFormatError(f"{origin}:{number}: expected 'query-id<TAB>corpus-id<TAB>score', got {line!r}")
        qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    return qrels


def load_scifact() -> SciFact:
    doc_ids, titles, abstracts = [], [], []
    with gzip.open(verified_path(CORPUS), "rt", encoding="utf-8") as handle:
        for line in handle:
            doc = json.loads(line)
            doc_ids.append(str(doc["_id"]))
            titles.append(doc.get("title", ""))
            abstracts.append(doc["text"])
    queries = {}
    for line in verified_path(QUERIES).read_text(encoding="utf-8").splitlines():
        query = json.loads(line)
        queries[str(query["_id"])] = query["text"]
    qrels = {}
    for split in SPLITS:
        path = verified_path(f"{FOLDER}/qrels/{split}.tsv")
        qrels[split] = read_qrels(path.read_text(encoding="utf-8").splitlines(), str(path))
    known = set(doc_ids)
    for split, table in qrels.items():
        for qid, docs in table.items():
            if qid not in queries or not set(docs) <= known:
                raise SciFactFormatError(f"qrels/{split}.tsv: query {qid} or one of its documents is not in the data")
    return SciFact(doc_ids, titles, abstracts, queries, qrels)


def subset(data: SciFact, doc_limit: int | None, train_queries: int | None, test_queries: int | None) -> SciFact:
    """The first N train/test queries (None = all) and the first doc_limit documents plus every document judged
    for a kept query, in corpus order: a small but scoreable SciFact for smoke runs."""
    limits = {"train": train_queries, "test": test_queries}
    qrels = {split: dict(list(table.items())[: limits[split]]) for split, table in data.qrels.items()}
    if doc_limit is None:
        keep = set(data.doc_ids)
    else:
        keep = set(data.doc_ids[:doc_limit]) | {
            doc for table in qrels.values() for docs in table.values() for doc in docs
        }
    rows = [i for i, doc in enumerate(data.doc_ids) if doc in keep]
    return SciFact(
        [data.doc_ids[i] for i in rows],
        [data.titles[i] for i in rows],
        [data.abstracts[i] for i in rows],
        data.queries,
        qrels,
    )
