"""Structure of the latent space: 2-D views of the latent means and how well they separate digits (the k-NN
classifier itself is in study/knn.py)."""

from __future__ import annotations

import os

import numpy as np
import openTSNE
from sklearn.manifold import TSNE
from sklearn.metrics import silhouette_score
from sklearn.neighbors import NearestNeighbors

from vae.errors import PipelineError

# opentsne: openTSNE's Barnes-Hut gradient on all cores; opentsne-fft: its FFT-interpolated gradient, which
# openTSNE recommends above some tens of thousands of points; sklearn: scikit-learn's Barnes-Hut. The
# benchmark times all three on the d=64 test means (docs/speed.md).
TSNE_METHODS = ("opentsne", "opentsne-fft", "sklearn")


def tsne(points: np.ndarray, *, perplexity: float, seed: int, method: str = "opentsne") -> np.ndarray:
    """A seeded 2-D t-SNE of ``points``, initialised from their first two principal components."""
    n = len(points)
    if not 0 < perplexity < n:
        raise PipelineError(f"t-SNE perplexity must be in (0, {n}) for {n} points, got {perplexity}")
    if method in ("opentsne", "opentsne-fft"):
        embedding = openTSNE.TSNE(n_components=2, perplexity=perplexity, initialization="pca", random_state=seed,
                                  negative_gradient_method="fft" if method == "opentsne-fft" else "bh",
                                  n_jobs=os.cpu_count() or 1).fit(points)
        return np.asarray(embedding, dtype=np.float32)
    if method == "sklearn":
        return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(points)
    raise ValueError(f"t-SNE method must be one of {TSNE_METHODS}, got {method!r}")


def view_2d(means: np.ndarray, *, perplexity: float, seed: int, method: str = "opentsne") -> np.ndarray:
    """A 2-D view of latent means: the means themselves for d=2, a seeded vertical jitter for d=1
    (so that overlapping points stay visible), and t-SNE above two dimensions."""
    n, d = means.shape
    if d == 1:
        jitter = np.random.default_rng(seed).uniform(-1.0, 1.0, size=n)
        return np.column_stack([means[:, 0], jitter])
    if d == 2:
        return means.copy()
    return tsne(means, perplexity=perplexity, seed=seed, method=method).astype(np.float32)


def leave_one_out_knn_accuracy(points: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Share of points whose k nearest other points vote for their own label: how well a 2-D view keeps
    the digits apart, comparable across views of the same points."""
    # kneighbors() without query points leaves each point out of its own neighbours, duplicates included.
    _, neighbours = NearestNeighbors(n_neighbors=k).fit(points).kneighbors()
    votes = labels[neighbours]
    predicted = np.array([np.bincount(row).argmax() for row in votes])
    return float((predicted == labels).mean())


def silhouette(means: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette of the digit classes in latent space, in [-1, 1]; higher is better separated."""
    return float(silhouette_score(means, labels))
