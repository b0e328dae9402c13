"""Benchmark: convolution as a naive loop, by im2col (NumPy), on the day-4 engine and in torch, in one process.

    python -m src.ml.vision.conv_benchmark          # -> reports/bench/day05_conv.json and day05_conv.png

For every shape of CONV_SHAPES (batch, channels in/out, image size, kernel, stride, padding) each implementation
runs forward + backward (gradients of input, weights and bias for a fixed upstream gradient) on the same
float32 arrays; src.benchmark.best_time takes the fastest of several calls. ratio = seconds / torch's seconds.
The naive loop is timed only where it has at most NAIVE_MAX_DOTS window dot products (it needs minutes beyond).
The same table drives tests/ml/vision/test_im2col.py, which holds every implementation equal to torch in float64.
"""

import argparse
import functools
import time

import numpy as np
import torch

from src import atomic_io
from src.benchmark import best_time
from src.ml.deep_learning.convolution import conv2d as engine_conv2d
from src.ml.deep_learning.tensor import Tensor
from src.ml.vision import im2col
from src.paths import REPORTS

# (batch, in channels, out channels, size, kernel, stride, padding)
CONV_SHAPES = (
    (8, 3, 16, 32, 3, 1, 1),  # a CIFAR stem
    (8, 16, 32, 32, 3, 2, 1),  # a downsampling conv
    (8, 32, 32, 16, 3, 1, 1),  # a residual block's conv
    (8, 64, 64, 8, 3, 1, 1),  # deeper, smaller maps
    (8, 32, 64, 16, 1, 2, 0),  # a projection shortcut
    (8, 3, 24, 32, 2, 1, 0),  # the fast net's 2x2 whitening conv
    (32, 64, 128, 16, 3, 1, 1),  # a larger batch: BLAS territory
)
NAIVE_MAX_DOTS = 70_000
IDLE_SECONDS = 0.3  # let NumPy's BLAS threads go to sleep before torch's turn (see day 4's benchmark)


def shape_name(shape) -> str:
    n, c, f, size, k, stride, padding = shape
    return f"N{n} C{c}->{f} {size}x{size} k{k} s{stride} p{padding}"


def make_arrays(shape, dtype=np.float32, seed: int = 0) -> dict[str, np.ndarray]:
    n, c, f, size, k, stride, padding = shape
    rng = np.random.default_rng(seed)
    out_size = im2col.output_size(size, k, stride, padding)
    return {
        "x": rng.standard_normal((n, c, size, size)).astype(dtype),
        "weight": (rng.standard_normal((f, c, k, k)) / np.sqrt(c * k * k)).astype(dtype),
        "bias": rng.standard_normal(f).astype(dtype),
        "grad": rng.standard_normal((n, f, out_size, out_size)).astype(dtype),
    }


def naive(a, stride, padding):
    out, cache = im2col.conv2d_naive_forward(a["x"], a["weight"], a["bias"], stride, padding)
    return (out, *im2col.conv2d_naive_backward(a["grad"], cache))


def by_im2col(a, stride, padding):
    out, cache = im2col.conv2d_forward(a["x"], a["weight"], a["bias"], stride, padding)
    return (out, *im2col.conv2d_backward(a["grad"], cache))


def engine(a, stride, padding):
    x, w, b = (Tensor(a[k], requires_grad=True) for k in ("x", "weight", "bias"))
    out = engine_conv2d(x, w, b, stride, padding)
    out.backward(a["grad"])
    return out.data, x.grad, w.grad, b.grad


def with_torch(a, stride, padding):
    x, w, b = (torch.from_numpy(a[k]).requires_grad_() for k in ("x", "weight", "bias"))
    out = torch.nn.functional.conv2d(x, w, b, stride=stride, padding=padding)
    out.backward(torch.from_numpy(a["grad"]))
    return tuple(t.detach().numpy() for t in (out, x.grad, w.grad, b.grad))


IMPLEMENTATIONS = {"naive_loop": naive, "im2col_numpy": by_im2col, "day4_engine": engine, "torch": with_torch}


def naive_dots(shape) -> int:
    n, _, f, size, k, stride, padding = shape
    return n * f * im2col.output_size(size, k, stride, padding) ** 2


def run(shapes=CONV_SHAPES, repeats: int = 3) -> list[dict]:
    rows = []
    for shape in shapes:
        arrays = make_arrays(shape)
        _, _, _, _, _, stride, padding = shape
        seconds = {}
        for name, fn in IMPLEMENTATIONS.items():
            if name == "naive_loop" and naive_dots(shape) > NAIVE_MAX_DOTS:
                continue
            time.sleep(IDLE_SECONDS)
            call = functools.partial(fn, arrays, stride, padding)
            seconds[name] = best_time(call, repeats=repeats, max_calls=50)
        row = {"shape": shape_name(shape), "batch": shape[0], "in_channels": shape[1], "out_channels": shape[2]}
        row |= {"size": shape[3], "kernel": shape[4], "stride": stride, "padding": padding}
        for name, value in seconds.items():
            row[f"{name}_ms"] = 1000 * value
            row[f"{name}_ratio_to_torch"] = value / seconds["torch"]
        rows.append(row)
        print(
            row["shape"],
            "  ".join(f"{k} {v * 1000:.2f} ms ({v / seconds['torch']:.1f}x)" for k, v in seconds.items()),
            flush=True,
        )
    return rows


def plot(rows):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4.5))
    names = [n for n in IMPLEMENTATIONS if n != "torch"]
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        xs = [j + i * width for j, row in enumerate(rows) if f"{name}_ratio_to_torch" in row]
        ys = [row[f"{name}_ratio_to_torch"] for row in rows if f"{name}_ratio_to_torch" in row]
        ax.bar(xs, ys, width, label=name)
    ax.axhline(1, color="black", lw=1, ls="--", label="torch.conv2d")
    ax.set_yscale("log")
    ax.set_xticks([j + width for j in range(len(rows))], [row["shape"] for row in rows], rotation=25, ha="right")
    ax.set_ylabel("seconds / torch seconds (forward + backward)")
    ax.set_title("Convolution: naive loop vs im2col vs torch (lower is faster; naive only on small shapes)")
    ax.legend()
    return fig


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = run(repeats=args.repeats)
    out = REPORTS / "bench"
    atomic_io.write_json(out / "day05_conv.json", {"threads": torch.get_num_threads(), "rows": rows})
    atomic_io.save_figure(plot(rows), out / "day05_conv.png")
    print(f"wrote {out / 'day05_conv.json'} and {out / 'day05_conv.png'}")


if __name__ == "__main__":
    main()
