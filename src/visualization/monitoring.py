"""The monitor's figures: which columns drifted in which stream, and what the distributions look like."""

import matplotlib.pyplot as plt
import numpy as np

from src.capstone.data import LABELS


def drift_matrix(summaries: dict[str, dict]):
    """Streams x columns: red where the column drifted, green where not, each cell showing its score
    (a p-value for K-S/chi-square/Z tests: small means drift; a distance for Wasserstein/Jensen-Shannon: large)."""
    streams = list(summaries)
    columns = [entry["column"] for entry in summaries[streams[0]]["columns"]]
    drifted = np.array([[entry["drifted"] for entry in summaries[s]["columns"]] for s in streams], dtype=float)
    fig, ax = plt.subplots(figsize=(1.1 * len(columns) + 2, 0.7 * len(streams) + 1.8))
    ax.imshow(drifted, cmap="RdYlGn_r", vmin=-0.5, vmax=1.5, aspect="auto")
    for i, stream in enumerate(streams):
        for j, entry in enumerate(summaries[stream]["columns"]):
            ax.text(j, i, f"{entry['score']:.2g}", ha="center", va="center", fontsize=8)
    labels = [
        f"{s}\n{summaries[s]['drifted_count']:.0f}/{len(columns)} drifted"
        + (" (DRIFT)" if summaries[s]["drift_detected"] else "")
        for s in streams
    ]
    ax.set_yticks(range(len(streams)), labels)
    ax.set_xticks(range(len(columns)), columns, rotation=40, ha="right")
    methods = sorted({entry["method"] for s in streams for entry in summaries[s]["columns"]})
    ax.set_title(f"Drift per column (red: drifted). Scores: {', '.join(methods)}", fontsize=9)
    return fig


def distributions(reference, currents: dict, numeric_columns: list[str]):
    """Reference vs each stream: a density histogram per numeric column (bins from the reference and the
    streams together, so shapes compare), and the share of each predicted label."""
    n_panels = len(numeric_columns) + 1
    n_cols = 4
    n_rows = -(-n_panels // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(4 * n_cols, 3 * n_rows))
    axes = axes.ravel()
    tables = {"reference": reference, **currents}
    colors = {"reference": "0.6", **{name: f"C{i}" for i, name in enumerate(currents)}}
    for ax, column in zip(axes, numeric_columns, strict=False):
        values = {name: table[column].astype(float).to_numpy() for name, table in tables.items()}
        pooled = np.concatenate(list(values.values()))
        bins = np.histogram_bin_edges(np.clip(pooled, None, np.quantile(pooled, 0.98)), bins=30)
        for name, data in values.items():
            style = {"alpha": 0.6} if name == "reference" else {"histtype": "step", "linewidth": 1.5}
            ax.hist(np.clip(data, None, bins[-1]), bins=bins, density=True, color=colors[name], **style)
        ax.set_title(column, fontsize=9)
    ax = axes[len(numeric_columns)]
    width = 0.8 / len(tables)
    for k, (name, table) in enumerate(tables.items()):
        shares = [float((table["prediction"] == label).mean()) for label in LABELS]
        ax.bar(np.arange(len(LABELS)) + k * width, shares, width, label=name, color=colors[name])
    ax.set_xticks(np.arange(len(LABELS)) + width * (len(tables) - 1) / 2, LABELS)
    ax.set_title("predicted label (share)", fontsize=9)
    ax.legend(fontsize=7)
    for extra in axes[n_panels:]:
        extra.axis("off")
    fig.suptitle("Reference vs current traffic (values above the 98th percentile drawn in the last bin)")
    fig.tight_layout()
    return fig
