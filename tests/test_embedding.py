"""Latent-structure measures and the two t-SNE implementations."""

from __future__ import annotations

import numpy as np
import pytest

from study import embedding, knn
from study.embedding import TSNE_METHODS


def blobs(n_per: int = 60, d: int = 8) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), n_per)
    return (rng.normal(size=(len(labels), d)) * 0.1 + labels[:, None] * 3.0).astype(np.float32), labels


def test_leave_one_out_knn_separates_clusters_and_not_noise() -> None:
    points, labels = blobs()
    assert embedding.leave_one_out_knn_accuracy(points, labels, k=5) == 1.0
    shuffled = np.random.default_rng(1).permutation(labels)
    assert embedding.leave_one_out_knn_accuracy(points, shuffled, k=5) < 0.6


@pytest.mark.parametrize("method", TSNE_METHODS)
def test_tsne_is_seeded_and_keeps_clusters(method: str) -> None:
    points, labels = blobs(n_per=20)  # openTSNE's FFT gradient costs 6 s on 60 points, 12 on 180
    first, second = (embedding.tsne(points, perplexity=10, seed=0, method=method) for _ in range(2))
    assert first.shape == (len(points), 2) and np.array_equal(first, second)
    assert embedding.leave_one_out_knn_accuracy(first, labels, k=5) == 1.0


def test_tsne_refuses_a_perplexity_above_the_points() -> None:
    points, _ = blobs(n_per=5)
    with pytest.raises(embedding.PipelineError, match=r"perplexity must be in \(0, 15\) for 15 points, got 30"):
        embedding.tsne(points, perplexity=30, seed=0)


def test_knn_predict_gives_the_digit_of_the_nearest_training_points() -> None:
    points, labels = blobs()
    queries = np.array([[0.0] * 8, [6.0] * 8, [3.1] * 8], dtype=np.float32)
    assert knn.knn_predict(points, labels, queries, k=5).tolist() == [0, 2, 1]


def test_digit_shares_count_every_digit_including_absent_ones() -> None:
    shares = knn.digit_shares(np.array([1, 1, 1, 7]))
    assert shares == [0.0, 0.75, 0.0, 0.0, 0.0, 0.0, 0.0, 0.25, 0.0, 0.0]
