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
from src.capstone.model import INT8, IssueClassifier, average_probabilities, int8_stands_in, is_int8, member_weights
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
    """({model: out-of-fold probabilities}, {model: seconds}) for each of `models` (see model.MODELS; an
    ensemble averages its members' probabilities with member_weights, at the sum of their cost; an `_int8`
    model is each fold's fine-tuned MiniLM quantised, so it costs no extra training).
    on_epoch(fold, epoch, loss) sees MiniLM's training curves."""
    proba, seconds = {}, {}
    if "tfidf" in models:
        proba["tfidf"], seconds["tfidf"] = tfidf_out_of_fold(texts, labels, folds, tfidf_params)
    if "minilm" in models:
        int8 = "minilm_int8" in models
        minilm_proba, seconds["minilm"] = minilm_out_of_fold(minilm, texts, labels, folds, on_epoch, int8)
        proba |= minilm_proba
        if int8:
            seconds["minilm_int8"] = seconds["minilm"]
    for ensemble in ("ensemble", "ensemble_int8"):
        if ensemble in models:
            its_minilm = "minilm_int8" if is_int8(ensemble) else "minilm"
            weights = member_weights(ensemble, tfidf_weight)
            proba[ensemble] = average_probabilities({"tfidf": proba["tfidf"], "minilm": proba[its_minilm]}, weights)
            seconds[ensemble] = seconds["tfidf"] + seconds[its_minilm]
    return proba, seconds


def choose(cv_scores: dict[str, float], int8_tolerance: float) -> str:
    """The model with the best CV score; if that is a float model whose int8 twin scores within int8_tolerance of
    it, the twin (it answers about twice as fast; the stage measures how much). Both scores are out-of-fold, so
    the choice never looks at an issue a scored model trained on."""
    best = max(cv_scores, key=cv_scores.get)
    twin = best + INT8
    if twin in cv_scores and int8_stands_in(twin, cv_scores[twin], best, cv_scores[best], int8_tolerance):
        return twin
    return best


def refit(
    model: str,
    texts,
    labels,
    tfidf_params: dict,
    minilm: MiniLMClassifier | None,
    tfidf_weight: float,
    max_chars: int,
) -> IssueClassifier:
    """The chosen model trained on every issue, as the served IssueClassifier (on CPU: that is where it runs).
    `minilm` is left fitted in float whatever the choice, so the stage can time float against int8."""
    weights = member_weights(model, tfidf_weight)
    members = {}
    if "tfidf" in weights:
        members["tfidf"] = TfidfClassifier(**tfidf_params).fit(texts, labels)
    if "minilm" in weights:
        fitted = minilm.fit(texts, labels, progress=True).to("cpu")
        members["minilm"] = fitted.quantized() if is_int8(model) else fitted
    return IssueClassifier(members, weights, max_chars=max_chars)


def tfidf_out_of_fold(texts, labels, folds, params: dict) -> tuple[np.ndarray, float]:
    """(out-of-fold probabilities (n, 3), seconds spent)."""
    texts, labels = np.asarray(texts, dtype=object), np.asarray(labels)
    proba, started = np.zeros((len(texts), len(LABELS))), time.perf_counter()
    for train, test in tqdm(folds, desc="tfidf: cv folds"):
        model = TfidfClassifier(**params).fit(texts[train], labels[train])
        proba[test] = model.predict_proba(texts[test])
    return proba, time.perf_counter() - started


def minilm_out_of_fold(minilm: MiniLMClassifier, texts, labels, folds, on_epoch=None, int8: bool = False):
    """({"minilm": out-of-fold probabilities, and "minilm_int8" when int8}, seconds spent, the frozen pass
    included). The frozen layers run once and their cache is shared by all folds (the int8 model has its own
    cache: its frozen layers are quantised too); on_epoch(fold, epoch, loss) sees each fold's training curve."""
    started = time.perf_counter()
    cache = minilm.encode(texts, progress=True)
    proba = {"minilm": np.zeros((len(labels), len(LABELS)))}
    int8_cache = None
    for fold, (train, test) in enumerate(folds):
        minilm.fit_cached(
            cache,
            labels,
            train,
            progress=True,
            desc=f" (fold {fold + 1}/{len(folds)})",
            on_epoch=lambda e, loss, f=fold: on_epoch and on_epoch(f, e, loss),
        )
        proba["minilm"][test] = minilm.predict_proba_cached(cache, test)
        if int8:
            quantized = minilm.to("cpu").quantized()
            if int8_cache is None:
                int8_cache = quantized.encode(texts, progress=True)
                proba["minilm_int8"] = np.zeros_like(proba["minilm"])
            proba["minilm_int8"][test] = quantized.predict_proba_cached(int8_cache, test)
            minilm.to(str(cache["mask"].device))  # back where the float cache lives (a no-op on the CPU)
    return proba, time.perf_counter() - started
