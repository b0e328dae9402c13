"""NeuralNetwork: a stack of layers with a Keras-like fit / evaluate / predict / save / load.

    model = NeuralNetwork()
    model.add(Dense(784, 100, activation="relu"))
    model.add(Dense(100, 10))                         # outputs logits; the loss is softmax cross-entropy
    history = model.fit(X_train, y_train, epochs=5)   # minibatch Adam (day 2's), 10% held out for validation
    model.evaluate(X_test, y_test)                    # {'loss': ..., 'accuracy': ...}
    model.save("mlp.npz"); model = NeuralNetwork.load("mlp.npz")

Training is day 2's optimizers on the layers' parameter arrays: the optimizer updates `param.data` in place
from `param.grad`, which backward() filled.
"""

import json
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from src import atomic_io
from src.core.optimization import CosineAnnealingLR, make_optimizer
from src.ml.deep_learning import layers as layer_module
from src.ml.deep_learning.losses import softmax, softmax_cross_entropy
from src.ml.deep_learning.recurrent import LSTM
from src.ml.deep_learning.tensor import Tensor, no_grad

LAYER_TYPES = {
    cls.__name__: cls
    for cls in vars(layer_module).values()
    if isinstance(cls, type) and issubclass(cls, layer_module.Layer)
} | {"LSTM": LSTM}


class NeuralNetwork:
    def __init__(self, layers: list | None = None):
        self.layers: list[layer_module.Layer] = []
        for layer in layers or []:
            self.add(layer)
        self.optimizer = None

    def add(self, layer) -> "NeuralNetwork":
        if not isinstance(layer, layer_module.Layer):
            raise TypeError(f"add() takes a layer (Dense, Conv2D, ...), got {type(layer).__name__}")
        self.layers.append(layer)
        return self

    def __call__(self, x) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(np.asarray(x, dtype=self.dtype))
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Tensor]:
        return [p for layer in self.layers for p in layer.parameters()]

    @property
    def dtype(self):
        params = self.parameters()
        return params[0].dtype if params else np.float32

    def train(self, mode: bool = True):
        for layer in self.layers:
            layer.training = mode

    def eval(self):
        self.train(False)

    def zero_grad(self):
        for p in self.parameters():
            p.grad = None

    # -- training --------------------------------------------------------------------------------------------
    def fit(
        self,
        X,
        y,
        epochs: int = 10,
        batch_size: int = 64,
        optimizer: str = "adam",
        lr: float = 1e-3,
        validation_split: float = 0.1,
        validation_data=None,
        early_stopping_patience: int | None = None,
        cosine_schedule: bool = False,
        augment: Callable | None = None,
        seed: int = 0,
        verbose: bool = True,
        on_epoch_end: Callable | None = None,
        checkpoint: str | Path | None = None,
        **optimizer_args,
    ) -> dict:
        """Minibatch training on softmax cross-entropy. Returns the history: per-epoch lists 'loss',
        'accuracy' (training, averaged over the epoch's batches), 'val_loss', 'val_accuracy', 'seconds',
        'images_per_second' (training only).

        validation_split holds out that fraction of (X, y) (the last rows after a seeded shuffle) unless
        validation_data=(X_val, y_val) is given. early_stopping_patience stops after that many epochs without a
        better validation loss and restores the best weights. augment(batch, rng) -> batch transforms training
        images only. on_epoch_end(epoch, logs) is called after each epoch (MLflow logging); checkpoint, if given,
        is a path where the model is saved after every epoch, so a crash loses at most one epoch."""
        X, y = self._check_data(X, y)
        if not self.layers:
            raise ValueError("the network has no layers: add some with model.add(Dense(...)) before fit()")
        if epochs < 1 or batch_size < 1:
            raise ValueError(f"epochs and batch_size must be >= 1, got {epochs} and {batch_size}")
        rng = np.random.default_rng(seed)
        if not 0 <= validation_split < 1:
            raise ValueError(f"validation_split must lie in [0, 1), got {validation_split}")
        if validation_data is not None:
            X_val, y_val = self._check_data(*validation_data)
        elif validation_split > 0:
            order = rng.permutation(len(X))
            n_val = max(1, int(len(X) * validation_split))
            X, y, X_val, y_val = X[order[n_val:]], y[order[n_val:]], X[order[:n_val]], y[order[:n_val]]
        else:
            X_val = y_val = None

        params = self.parameters()
        # what early stopping snapshots: the parameters and the buffers (BatchNorm's running statistics), which
        # evaluation uses too; every one of these arrays is updated in place, so it can be restored in place
        state = [p.data for p in params] + [b for layer in self.layers for b in layer.buffers().values()]
        self.optimizer = make_optimizer(optimizer, [p.data for p in params], lr=lr, **optimizer_args)
        scheduler = CosineAnnealingLR(self.optimizer, t_max=epochs) if cosine_schedule else None
        history = {k: [] for k in ("loss", "accuracy", "val_loss", "val_accuracy", "seconds", "images_per_second")}
        best_loss, best_weights, stale_epochs = np.inf, None, 0
        for epoch in range(1, epochs + 1):
            loss, accuracy, seconds = self._train_one_epoch(X, y, batch_size, augment, rng, epoch, epochs, verbose)
            logs = {"loss": loss, "accuracy": accuracy, "seconds": seconds, "images_per_second": len(X) / seconds}
            if X_val is not None:
                logs |= {f"val_{k}": v for k, v in self.evaluate(X_val, y_val).items()}
            for key, value in logs.items():
                history[key].append(value)
            if scheduler:
                scheduler.step()
            if verbose:
                print(f"epoch {epoch}/{epochs}: " + ", ".join(f"{k} {v:.4g}" for k, v in logs.items()))
            if on_epoch_end:
                on_epoch_end(epoch, logs)
            if checkpoint:
                self.save(checkpoint)
            if early_stopping_patience is not None and X_val is not None:
                if logs["val_loss"] < best_loss:
                    best_loss, best_weights, stale_epochs = logs["val_loss"], [a.copy() for a in state], 0
                else:
                    stale_epochs += 1
                    if stale_epochs >= early_stopping_patience:
                        if verbose:
                            print(f"early stopping: no better validation loss for {stale_epochs} epochs")
                        break
        if best_weights is not None:
            for current, best in zip(state, best_weights, strict=True):
                np.copyto(current, best)  # in place: the optimizer holds references to these arrays
        return {k: v for k, v in history.items() if v}

    def train_step(self, X_batch: np.ndarray, y_batch: np.ndarray) -> tuple[Tensor, Tensor]:
        """One optimisation step on one batch with self.optimizer: forward, loss, backward, update.
        Returns (loss, logits)."""
        logits = self(X_batch)
        loss = softmax_cross_entropy(logits, y_batch)
        self.zero_grad()
        loss.backward()
        self.optimizer.step([p.grad for p in self.parameters()])
        return loss, logits

    def _train_one_epoch(self, X, y, batch_size, augment, rng, epoch, epochs, verbose):
        self.train()
        order = rng.permutation(len(X))
        total_loss = correct = 0.0
        started = time.perf_counter()
        batches = range(0, len(X), batch_size)
        bar = tqdm(batches, desc=f"epoch {epoch}/{epochs}", unit="batch", disable=not verbose, leave=False)
        for start in bar:
            index = order[start : start + batch_size]
            X_batch = augment(X[index], rng) if augment else X[index]
            loss, logits = self.train_step(X_batch, y[index])
            total_loss += loss.item() * len(index)
            correct += (logits.data.argmax(axis=1) == y[index]).sum()
            bar.set_postfix(loss=f"{loss.item():.4f}", refresh=False)
        seconds = time.perf_counter() - started
        return total_loss / len(X), float(correct / len(X)), seconds

    # -- inference -------------------------------------------------------------------------------------------
    def predict_proba(self, X, batch_size: int = 1000) -> np.ndarray:
        self.eval()
        X = self._check_inputs(X)
        with no_grad():
            return np.concatenate([softmax(self(X[i : i + batch_size]).data) for i in range(0, len(X), batch_size)])

    def predict(self, X, batch_size: int = 1000) -> np.ndarray:
        return self.predict_proba(X, batch_size).argmax(axis=1)

    def evaluate(self, X, y, batch_size: int = 1000) -> dict[str, float]:
        X, y = self._check_data(X, y)
        self.eval()
        total_loss = correct = 0.0
        with no_grad():
            for i in range(0, len(X), batch_size):
                logits = self(X[i : i + batch_size])
                total_loss += softmax_cross_entropy(logits, y[i : i + batch_size]).item() * len(logits)
                correct += (logits.data.argmax(axis=1) == y[i : i + batch_size]).sum()
        return {"loss": total_loss / len(X), "accuracy": float(correct / len(X))}

    def _check_inputs(self, X) -> np.ndarray:
        X = np.asarray(X)
        if not np.issubdtype(X.dtype, np.number):
            raise ValueError(f"inputs must be numeric, got dtype {X.dtype}")
        if len(X) == 0:
            raise ValueError("no inputs: X is empty")
        X = X.astype(self.dtype, copy=False)
        if not np.isfinite(X).all():
            raise ValueError("inputs contain NaN or infinity; clean or impute them first")
        return X

    def _check_data(self, X, y) -> tuple[np.ndarray, np.ndarray]:
        X, y = self._check_inputs(X), np.asarray(y)
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)} labels")
        if not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"y must hold integer class labels (0, 1, ...), got dtype {y.dtype}")
        return X, y.astype(np.int64)

    # -- persistence -----------------------------------------------------------------------------------------
    def architecture(self) -> list[dict]:
        return [{"type": type(layer).__name__, "config": layer.config} for layer in self.layers]

    def save(self, path: str | Path) -> Path:
        """One .npz file: the architecture as JSON plus every parameter and buffer; written atomically."""
        arrays = {"architecture": np.array(json.dumps(self.architecture()))}
        for i, layer in enumerate(self.layers):
            for j, p in enumerate(layer.parameters()):
                arrays[f"layer{i}.param{j}"] = p.data
            for name, buffer in layer.buffers().items():
                arrays[f"layer{i}.{name}"] = buffer

        def write(tmp: Path):
            with open(tmp, "wb") as file:  # a file object: np.savez would append .npz to a bare name
                np.savez(file, **arrays)

        return atomic_io.atomic_write(Path(path), write)

    @classmethod
    def load(cls, path: str | Path) -> "NeuralNetwork":
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"no saved model at {path}; train one and call model.save({str(path)!r})")
        try:
            with np.load(path) as saved:
                arrays = dict(saved)
            spec = json.loads(str(arrays.pop("architecture")))
        except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as error:
            # TypeError: a plain .npy file loads as one array, not an archive; BadZipFile: a truncated archive
            raise ValueError(f"{path} is not a model saved by NeuralNetwork.save ({error!r})") from error
        unknown = [entry["type"] for entry in spec if entry["type"] not in LAYER_TYPES]
        if unknown:
            raise ValueError(f"{path} uses unknown layer types {unknown}; known: {sorted(LAYER_TYPES)}")
        model = cls([LAYER_TYPES[entry["type"]](**entry["config"]) for entry in spec])
        for i, layer in enumerate(model.layers):
            targets = {f"layer{i}.param{j}": p.data for j, p in enumerate(layer.parameters())}
            targets |= {f"layer{i}.{name}": buffer for name, buffer in layer.buffers().items()}
            for key, target in targets.items():
                found = arrays[key].shape if key in arrays else None
                if found != target.shape:  # checked: np.copyto would broadcast a (1, n) array silently
                    raise ValueError(
                        f"{path} does not hold the weights its architecture needs: {key} should have shape "
                        f"{target.shape}, found {found or 'nothing'}"
                    )
                np.copyto(target, arrays[key])
        return model

    def __repr__(self):
        lines = "\n".join(f"  {layer!r}" for layer in self.layers)
        return f"NeuralNetwork(\n{lines}\n)"
