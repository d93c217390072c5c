"""PNG figures, drawn from arrays; nothing here knows about models or params."""

from __future__ import annotations

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


def against_d(panels: Sequence[Panel], path: Path) -> None:
    """Panels side by side, each with its series against d on a log2 axis, one tick per d drawn."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False)
    for ax, panel in zip(axes[0], panels):
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
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1)
    _save(fig, path)
