"""The load test's figure: throughput and tail latency by concurrent clients, per server; the model's batch curve."""

import matplotlib.pyplot as plt


def load_test_figure(results: dict[str, list[dict]], curve: list[dict], ceiling: float | None = None):
    """ceiling: the model's own best issues/s in one process, drawn as the line the servers approach."""
    fig, (throughput, latency, batch) = plt.subplots(1, 3, figsize=(15, 4.2))
    for server, rows in results.items():
        clients = [row["clients"] for row in rows]
        throughput.plot(clients, [row["throughput_rps"] for row in rows], marker="o", label=server)
        latency.plot(clients, [row["p99_ms"] for row in rows], marker="o", label=f"{server} p99")
        latency.plot(
            clients, [row["p50_ms"] for row in rows], marker=".", linestyle=":", color=latency.lines[-1].get_color()
        )
    if ceiling:
        throughput.axhline(ceiling, color="black", linestyle="--", linewidth=1, label="the model alone, best batch")
    throughput.set(xscale="log", xlabel="concurrent clients", ylabel="requests per second", title="Throughput")
    latency.set(
        xscale="log", yscale="log", xlabel="concurrent clients", ylabel="ms", title="Latency (p99 solid, p50 dotted)"
    )
    batch.plot([r["batch_size"] for r in curve], [r["ms_per_issue"] for r in curve], marker="o", color="black")
    batch.set(
        xscale="log",
        yscale="log",
        xlabel="issues per model call",
        ylabel="ms per issue",
        title="Model cost by batch size",
    )
    for axis in (throughput, latency, batch):
        axis.grid(True, which="both", alpha=0.3)
    throughput.legend()
    fig.tight_layout()
    return fig
