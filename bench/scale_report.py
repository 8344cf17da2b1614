"""How `kb bench scale` shows its figures: an aligned text table and a PNG of latency and
recall@10 against index size (matplotlib, the optional `bench` extra)."""

from __future__ import annotations

import importlib.util
import math
import os
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.scale import ScaleRow


HEADER = ("size", "served", "lists/probes", "build s exact/ivf", "disk MB exact/ivf",
          "RSS MB exact/ivf", "exact p50/p95", "ivf p50/p95", "ivf k=1000 p50", "recall@10")


def format_row(row: ScaleRow) -> tuple[str, ...]:
    """One table row of figures, as text."""
    return (f"{row.size:,}", row.served, f"{row.ivf_lists}/{row.ivf_probes}",
            f"{row.exact_build_s:.1f}/{row.ivf_build_s:.1f}",
            f"{row.exact_disk_mb:.0f}/{row.ivf_disk_mb:.0f}",
            f"{row.exact_rss_mb:.0f}/{row.ivf_rss_mb:.0f}",
            f"{row.exact_p50_ms:.2f}/{row.exact_p95_ms:.2f}",
            f"{row.ivf_p50_ms:.2f}/{row.ivf_p95_ms:.2f}", f"{row.ivf_pool_p50_ms:.2f}",
            f"{row.recall_at_10:.3f}")


def format_filtered(row: ScaleRow) -> str:
    """Filtered recall and latency for one size, as a line."""
    parts = [f"{name} filter: recall@10 {row.filtered_recall_at_10[name]:.3f}, "
             f"p50 {row.filtered_p50_ms[name]:.2f} ms" for name in row.filtered_recall_at_10]
    return f"{row.size:>9,}  " + "; ".join(parts)


def table(rows: list[ScaleRow]) -> list[str]:
    """The figures as an aligned text table (latencies in ms)."""
    cells = [HEADER] + [format_row(r) for r in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADER))]
    return ["  ".join(c.rjust(w) for c, w in zip(line, widths)) for line in cells]


def plotting_available() -> bool:
    """Whether matplotlib (the optional `bench` extra) is installed, so a plot can be drawn."""
    return importlib.util.find_spec("matplotlib") is not None


def plot_scale(rows: list[ScaleRow], path: Path, caption: str) -> None:
    """Draw latency (log scale, left) and recall@10 (right) per size; write `path` atomically."""
    import matplotlib

    matplotlib.use("Agg")  # files only; never a window
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullFormatter

    sizes = [r.size for r in rows]
    fig, latency = plt.subplots(figsize=(8, 5.6), dpi=120)
    latency.plot(sizes, [r.exact_p50_ms for r in rows], "o--", color="#888888",
                 label="exact (flat) p50")
    latency.plot(sizes, [r.ivf_p50_ms for r in rows], "s--", color="#1f77b4",
                 label="IVF p50")
    latency.plot(sizes, [r.served_p50_ms for r in rows], "-", color="#111111", linewidth=2.5,
                 alpha=0.35, label="what the site uses p50")
    latency.plot(sizes, [r.ivf_p95_ms for r in rows], "s:", color="#1f77b4", alpha=0.6,
                 label="IVF p95")
    latency.set_xscale("log")
    latency.set_yscale("log")
    latency.set_xlabel("passages (vectors) in the index")
    latency.set_ylabel("single-query latency, ms (log)")
    latency.grid(True, which="both", alpha=0.25)
    recall = latency.twinx()
    recall.plot(sizes, [r.recall_at_10 for r in rows], "^-", color="#d62728",
                label="IVF recall@10 vs exact")
    styles = [("v:", "#ff7f0e"), ("D-.", "#9467bd")]
    names = list(rows[0].filtered_recall_at_10) if rows else []
    for (marker, colour), name in zip(styles, names):
        recall.plot(sizes, [r.filtered_recall_at_10[name] for r in rows], marker,
                    color=colour, alpha=0.8, label=f"IVF recall@10, {name} filter")
    lowest = min([r.recall_at_10 for r in rows] +
                 [v for r in rows for v in r.filtered_recall_at_10.values()], default=1.0)
    recall.set_ylim(min(0.9, math.floor((lowest - 0.02) * 50) / 50), 1.005)
    recall.set_ylabel("recall@10")
    latency.xaxis.set_major_formatter(FuncFormatter(_size_label))
    latency.set_xticks(sizes)
    latency.xaxis.set_minor_formatter(NullFormatter())
    handles, labels = latency.get_legend_handles_labels()
    more_handles, more_labels = recall.get_legend_handles_labels()
    wrapped = textwrap.wrap(caption, 150)
    fig.legend(handles + more_handles, labels + more_labels, loc="lower center", ncol=3,
               fontsize=7.5, frameon=False, bbox_to_anchor=(0.5, 0.03 * len(wrapped) + 0.01))
    latency.set_title("Vector search at scale: latency and recall by index size", fontsize=11)
    fig.text(0.01, 0.01, "\n".join(wrapped), fontsize=6.5, color="#444444")
    fig.tight_layout(rect=(0, 0.03 * len(wrapped) + 0.14, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)


def _size_label(value: float, _position: int) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    return f"{value / 1_000:g}k" if value >= 1_000 else f"{value:g}"
