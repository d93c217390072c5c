"""PNG figures, drawn from arrays; nothing here knows about models or params."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a window; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from vae.io import atomic_path  # noqa: E402

DPI = 150
# Fixed metadata keeps PNG bytes identical across runs (matplotlib stamps the software version otherwise).
PNG_METADATA = {"Software": None}


def _save(fig: plt.Figure, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, bbox_inches="tight", metadata=PNG_METADATA)
    plt.close(fig)


def image_grid(images: torch.Tensor, cols: int, title: str, path: Path) -> None:
    """Grey-level (n, h, w) images in [0, 1] as one tiled picture, ink dark on white."""
    # Imported here: torchvision loads torch._dynamo and its model zoo (seconds), and stage check-params, which
    # imports every stage's rules, should not wait for that.
    from torchvision.utils import make_grid

    grid = make_grid(images.unsqueeze(1), nrow=cols, padding=2, pad_value=0.0)[0].numpy()
    width = cols * 0.45
    fig, ax = plt.subplots(figsize=(width, grid.shape[0] / grid.shape[1] * width + 0.4))
    ax.imshow(1.0 - grid, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    # Wide grids are shown shrunk: their title grows with them, up to the size of a heading.
    ax.set_title(title, fontsize=min(2.5 * width, 14))
    ax.axis("off")
    _save(fig, path)


def loss_curve(epochs: Sequence[int], train: Sequence[float], val: Sequence[float], title: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(epochs, train, label="train")
    ax.plot(epochs, val, label="validation")
    best = int(np.argmin(val))
    ax.scatter([epochs[best]], [val[best]], color="C1", zorder=3, label=f"best: {val[best]:.2f} (epoch {epochs[best]})")
    ax.set_xlabel("epoch")
    ax.set_ylabel("negative ELBO (nats / image)")
    # Early epochs dwarf the rest; show the range where the models differ.
    ax.set_ylim(min(min(train), min(val)) - 1, float(np.percentile(np.concatenate([train, val]), 90)) + 1)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    _save(fig, path)


def digit_scatter(points: np.ndarray, labels: np.ndarray, title: str, xlabel: str, ylabel: str, path: Path) -> None:
    """2-D points coloured by digit label, one legend entry per digit."""
    fig, ax = plt.subplots(figsize=(4.2, 3.6))
    for digit in range(10):
        mask = labels == digit
        ax.scatter(points[mask, 0], points[mask, 1], s=2, alpha=0.6, color=plt.cm.tab10(digit), label=str(digit),
                   rasterized=True)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(markerscale=5, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5), title="digit")
    _save(fig, path)


@dataclass(frozen=True)
class Series:
    """One line of a plot against the latent dimension."""

    label: str
    values: Mapping[int, float]  # d -> value
    spread: Mapping[int, float] | None = None  # d -> standard deviation over seeds, drawn as bars
    colour: int = 0  # index into the colour cycle: the same index is the same thing in every panel
    style: str = "-"  # a matplotlib line style; ":" in grey marks a reference line, "none" draws points only


@dataclass(frozen=True)
class Panel:
    title: str
    ylabel: str
    series: Sequence[Series]


def against_d(panels: Sequence[Panel], path: Path, columns: int | None = None) -> None:
    """Panels in rows of ``columns`` (all side by side by default), each with its series against d on a log2
    axis, one tick per d drawn. Side by side, each panel has its legend below it; in a grid of several rows the
    panels draw the same series (one per recipe), so they share one legend below the grid."""
    columns = columns or len(panels)
    rows = -(-len(panels) // columns)
    grid = rows > 1
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.2 * rows), squeeze=False,
                             layout="constrained" if grid else None)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax, panel in zip(axes.flat, panels):
        dims = sorted({d for series in panel.series for d in series.values})
        for series in panel.series:
            xs = sorted(series.values)
            reference = series.style == ":"
            ax.errorbar(xs, [series.values[d] for d in xs],
                        yerr=[series.spread[d] for d in xs] if series.spread else None,
                        color="0.5" if reference else f"C{series.colour}", linestyle=series.style,
                        marker=None if reference else "o", markersize=5 if series.style == "none" else 3.5,
                        capsize=3, label=series.label)
        ax.set_xscale("log", base=2)
        ax.set_xticks(dims, [str(d) for d in dims])
        ax.minorticks_off()
        ax.set_xlabel("latent dimension $d$")
        ax.set_ylabel(panel.ylabel)
        ax.set_title(panel.title, fontsize=10)
        ax.grid(alpha=0.3)
        if not grid:
            ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1)
    if grid:
        fig.legend(*axes.flat[0].get_legend_handles_labels(), loc="outside lower center", ncol=4, fontsize=8)
    _save(fig, path)


@dataclass(frozen=True)
class Strip:
    """A row of images side by side in a grid of what models draw: (n, h, w) grey levels in [0, 1]."""

    title: str  # the column heading, over the strips of every row
    images: np.ndarray


def strips_grid(rows: Mapping[str, Sequence[Strip]], title: str, path: Path) -> None:
    """One row per label, each a sequence of strips, the strips of a column under the heading the last row gives
    it; ink dark on white. The strips are tiled with torchvision's make_grid and set apart by a wider gap."""
    from torchvision.utils import make_grid  # imported here for the reason image_grid gives

    def tiled(strip: Strip) -> np.ndarray:
        return make_grid(torch.from_numpy(strip.images).float().unsqueeze(1), nrow=len(strip.images), padding=2,
                         pad_value=0.0)[0].numpy()

    tiles = [[tiled(strip) for strip in strips] for strips in rows.values()]
    gap = 12
    lines = []
    for row in tiles:
        parts = []
        for tile in row:
            parts += [tile, np.zeros((tile.shape[0], gap))]
        lines.append(np.concatenate(parts[:-1], axis=1))
    canvas = np.concatenate(lines, axis=0)
    headings = [textwrap.fill(strip.title, 26) for strip in list(rows.values())[-1]]
    widths = [tile.shape[1] for tile in tiles[-1]]
    # A page's width, so that the labels read at the size of a caption when the figure spans the text.
    width = 9.0
    heading_lines = max(heading.count("\n") + 1 for heading in headings)
    fig, ax = plt.subplots(figsize=(width, width * canvas.shape[0] / canvas.shape[1] + 0.5 + 0.2 * heading_lines))
    ax.imshow(1.0 - canvas, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    row_height = canvas.shape[0] / len(rows)
    for i, label in enumerate(rows):
        ax.text(-6, (i + 0.5) * row_height, label, ha="right", va="center", fontsize=9)
    left = 0
    for heading, strip_width in zip(headings, widths):
        ax.text(left + strip_width / 2, -4, heading, ha="center", va="bottom", fontsize=9)
        left += strip_width + gap
    ax.set_title(title, fontsize=11, pad=8 + 12 * heading_lines)  # above the headings, in points
    ax.axis("off")
    _save(fig, path)
