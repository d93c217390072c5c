"""Structure of the latent space: 2-D views of the latent means and how well they separate digits."""

from __future__ import annotations

import numpy as np
from sklearn.manifold import TSNE
from sklearn.metrics import silhouette_score
from sklearn.neighbors import KNeighborsClassifier

from vae.errors import PipelineError


def view_2d(means: np.ndarray, *, perplexity: float, seed: int) -> np.ndarray:
    """A 2-D view of latent means: the means themselves for d=2, a seeded vertical jitter for d=1
    (so that overlapping points stay visible), and t-SNE above two dimensions."""
    n, d = means.shape
    if d == 1:
        jitter = np.random.default_rng(seed).uniform(-1.0, 1.0, size=n)
        return np.column_stack([means[:, 0], jitter])
    if d == 2:
        return means.copy()
    if not 0 < perplexity < n:
        raise PipelineError(f"t-SNE perplexity must be in (0, {n}) for {n} points, got {perplexity}")
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)
    return tsne.fit_transform(means).astype(np.float32)


def knn_accuracy(train_means: np.ndarray, train_labels: np.ndarray, test_means: np.ndarray,
                 test_labels: np.ndarray, k: int) -> float:
    """Digit accuracy of a k-nearest-neighbour classifier fit on training means, scored on test means."""
    classifier = KNeighborsClassifier(n_neighbors=k).fit(train_means, train_labels)
    return float(classifier.score(test_means, test_labels))


def silhouette(means: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette of the digit classes in latent space, in [-1, 1]; higher is better separated."""
    return float(silhouette_score(means, labels))
