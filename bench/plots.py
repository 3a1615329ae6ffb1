"""Plots for the report (matplotlib, Agg backend, small PNGs under docs/img/)."""

from __future__ import annotations

from pathlib import Path

from bench.stats import per_second


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def pacing(
    path: Path, carrier: list[float], throttled: list[float], intake: list[float], rate: int, paced: float
) -> Path:
    """Submissions per second at the carrier (seconds since dispatch was enabled) with the limit, and
    the API's accepted requests per second during intake."""
    plt = _pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 4.6), dpi=90, gridspec_kw={"height_ratios": [3, 2]})
    counts = per_second(carrier, 0.0)
    top.bar(range(len(counts)), counts, width=0.9, color="#4477aa", label="accepted by the carrier")
    if throttled:
        tcounts = per_second(throttled, 0.0)
        top.bar(
            range(len(tcounts)),
            tcounts,
            width=0.9,
            bottom=counts[: len(tcounts)] + [0] * max(0, len(tcounts) - len(counts)),
            color="#cc6677",
            label="throttled (status 1)",
        )
    top.axhline(
        rate, color="#222222", linestyle="--", linewidth=1.2, label=f"carrier limit R = {rate}/s", zorder=3
    )
    top.set_ylim(0, rate * 1.35)
    top.set_xlabel("seconds since dispatch was enabled")
    top.set_ylabel("submissions / s")
    top.legend(loc="upper right", fontsize=7, ncol=3)
    top.set_title(f"Carrier submissions per second (1 s bins), gateway paced at {paced:g}/s", fontsize=10)
    icounts = per_second(intake, 0.0)
    bottom.bar(range(len(icounts)), icounts, width=0.9, color="#999933")
    bottom.set_xlabel("seconds since the first API request")
    bottom.set_ylabel("accepted / s")
    bottom.set_title("API intake (sends answered 200 per second)", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def bars(
    path: Path, title: str, labels: list[str], values: list[float], limit: float | None, ylabel: str
) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=90)
    ax.bar(labels, values, color="#4477aa")
    if limit is not None:
        ax.axhline(limit, color="#cc3311", linestyle="--", linewidth=1, label=f"goal {limit:g}")
        ax.legend(fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.tick_params(axis="x", labelrotation=35, labelsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
