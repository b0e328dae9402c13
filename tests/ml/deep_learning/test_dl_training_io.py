"""Day 4's saved PyTorch model and the gradient-flow summary: atomic saves, the pivot the stage plots."""

import pytest
import torch

from src.ml.deep_learning import architectures, torch_training
from src.ml.deep_learning.gradient_flow import gradient_norms_at_init, norms_by_setting, slug


def test_torch_save_is_atomic_and_loads_back(tmp_path, monkeypatch):
    model = architectures.torch_cnn([2], 4, seed=0)
    path = torch_training.save(model, tmp_path / "cnn.pt")
    loaded = architectures.torch_cnn([2], 4, seed=1)
    loaded.load_state_dict(torch.load(path))
    assert all(
        torch.equal(a, b) for a, b in zip(model.state_dict().values(), loaded.state_dict().values(), strict=True)
    )

    before = path.read_bytes()

    def crash(obj, target):
        open(target, "wb").write(b"half a mod")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        torch_training.save(model, path)
    assert path.read_bytes() == before  # the old file is whole, and no temporary file is left beside it
    assert [p.name for p in tmp_path.iterdir()] == ["cnn.pt"]


def test_torch_fit_checkpoints_every_epoch(tmp_path):
    import numpy as np

    X = np.random.default_rng(0).random((16, 1, 28, 28), dtype=np.float32)
    y = np.arange(16) % 10
    saved = []
    model = architectures.torch_cnn([2], 4, seed=0)

    def on_epoch_end(epoch, logs):
        saved.append((tmp_path / "cnn.pt").exists())

    torch_training.fit(
        model, X, y, (X, y), 2, 8, 1e-3, verbose=False, on_epoch_end=on_epoch_end, checkpoint=tmp_path / "cnn.pt"
    )
    assert saved == [False, True] and (tmp_path / "cnn.pt").exists()


def test_norms_by_setting_pivots_rows_per_layer_with_slugged_names():
    import numpy as np

    X = np.random.default_rng(0).random((8, 28, 28))
    rows = gradient_norms_at_init(X, np.arange(8), depth=3, width=8)
    by_setting = norms_by_setting(rows)
    assert list(by_setting) == ["sigmoid_xavier_init", "relu_he_init", "relu_n_0_1_init", "relu_n_0_0_01_init"]
    assert all(len(norms) == 4 for norms in by_setting.values())  # 3 hidden layers and the output layer
    first = next(r for r in rows if r["setting"] == "ReLU, He init" and r["layer"] == 1)
    assert by_setting["relu_he_init"][0] == first["grad_norm"]
    assert slug("ReLU, N(0, 1) init (too large)") == "relu_n_0_1_init"
