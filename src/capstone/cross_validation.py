"""Model selection: out-of-fold predictions (every issue predicted by a model that never saw it), then the
chosen model refit on every issue.

Folds are stratified by repository x label, so each fold has every repository's share of every class. The
out-of-fold probabilities score each model (the NLBSE report), pick the best one, and become the monitor's
honest reference predictions.
"""

import time

import numpy as np
from sklearn.model_selection import StratifiedKFold
from tqdm.auto import tqdm

from src.capstone.data import LABELS, strata
from src.capstone.model import IssueClassifier, average_probabilities, member_weights
from src.capstone.tfidf import TfidfClassifier
from src.capstone.transformer import MiniLMClassifier


def stratified_folds(repos, labels, n_folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    stratum = strata(repos, labels)
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(stratum)), stratum))


def out_of_fold(
    models,
    texts,
    labels,
    folds,
    tfidf_params: dict,
    minilm: MiniLMClassifier | None,
    tfidf_weight: float,
    on_epoch=None,
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """({model: out-of-fold probabilities}, {model: seconds}) for each of `models` ("tfidf", "minilm",
    "ensemble"; the ensemble averages the other two's with member_weights, at the sum of their cost).
    on_epoch(fold, epoch, loss) sees MiniLM's training curves."""
    proba, seconds = {}, {}
    if "tfidf" in models:
        proba["tfidf"], seconds["tfidf"] = tfidf_out_of_fold(texts, labels, folds, tfidf_params)
    if "minilm" in models:
        proba["minilm"], seconds["minilm"] = minilm_out_of_fold(minilm, texts, labels, folds, on_epoch)
    if "ensemble" in models:
        weights = member_weights("ensemble", tfidf_weight)
        proba["ensemble"] = average_probabilities({m: proba[m] for m in weights}, weights)
        seconds["ensemble"] = sum(seconds[m] for m in weights)
    return proba, seconds


def refit(
    model: str,
    texts,
    labels,
    tfidf_params: dict,
    minilm: MiniLMClassifier | None,
    tfidf_weight: float,
    max_chars: int,
) -> IssueClassifier:
    """The chosen model trained on every issue, as the served IssueClassifier (on CPU: that is where it runs)."""
    weights = member_weights(model, tfidf_weight)
    members = {}
    if "tfidf" in weights:
        members["tfidf"] = TfidfClassifier(**tfidf_params).fit(texts, labels)
    if "minilm" in weights:
        members["minilm"] = minilm.fit(texts, labels, progress=True).to("cpu")
    return IssueClassifier(members, weights, max_chars=max_chars)


def tfidf_out_of_fold(texts, labels, folds, params: dict) -> tuple[np.ndarray, float]:
    """(out-of-fold probabilities (n, 3), seconds spent)."""
    texts, labels = np.asarray(texts, dtype=object), np.asarray(labels)
    proba, started = np.zeros((len(texts), len(LABELS))), time.perf_counter()
    for train, test in tqdm(folds, desc="tfidf: cv folds"):
        model = TfidfClassifier(**params).fit(texts[train], labels[train])
        proba[test] = model.predict_proba(texts[test])
    return proba, time.perf_counter() - started


def minilm_out_of_fold(minilm: MiniLMClassifier, texts, labels, folds, on_epoch=None):
    """(out-of-fold probabilities, seconds spent, the frozen pass included). The frozen layers run once and
    their cache is shared by all folds; on_epoch(fold, epoch, loss) sees each fold's training curve."""
    started = time.perf_counter()
    cache = minilm.encode(texts, progress=True)
    proba = np.zeros((len(labels), len(LABELS)))
    for fold, (train, test) in enumerate(folds):
        minilm.fit_cached(
            cache,
            labels,
            train,
            progress=True,
            desc=f" (fold {fold + 1}/{len(folds)})",
            on_epoch=lambda e, loss, f=fold: on_epoch and on_epoch(f, e, loss),
        )
        proba[test] = minilm.predict_proba_cached(cache, test)
    return proba, time.perf_counter() - started
