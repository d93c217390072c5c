"""The k-nearest-neighbour digit classifier: on latent means, how much of the digit a code keeps; on pixels,
which digit a decoded image shows. Its own module because the sweep's cells run it: what they import is what
an edit retrains."""

from __future__ import annotations

import numpy as np
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors


def knn_predict(train_points: np.ndarray, train_labels: np.ndarray, points: np.ndarray, k: int) -> np.ndarray:
    """The digit a k-nearest-neighbour classifier fit on ``train_points`` gives each row of ``points``."""
    classifier = KNeighborsClassifier(n_neighbors=k).fit(train_points, train_labels)
    return classifier.predict(points)


class Neighbours:
    """The ``k`` nearest of labelled points, indexed once and asked many times: each query's neighbours' labels."""

    def __init__(self, points: np.ndarray, labels: np.ndarray, k: int) -> None:
        self.index = NearestNeighbors(n_neighbors=k).fit(points)
        self.labels = labels

    def __call__(self, queries: np.ndarray) -> np.ndarray:
        """The labels of each query's neighbours, (queries, k)."""
        return self.labels[self.index.kneighbors(queries, return_distance=False)]


def majority(votes: np.ndarray) -> np.ndarray:
    """The label most neighbours vote for, per row, the smallest on ties: what :func:`knn_predict` predicts."""
    return np.array([np.bincount(row).argmax() for row in votes])


def named_share(votes: np.ndarray) -> float:
    """The share of rows whose neighbours all agree on one digit: images the classifier can name without doubt,
    where a blurred or in-between image draws neighbours of several digits."""
    return float((votes == votes[:, :1]).all(axis=1).mean())


def digit_shares(predicted: np.ndarray) -> list[float]:
    """The share of each digit 0-9 among ``predicted`` labels."""
    return (np.bincount(predicted, minlength=10)[:10] / len(predicted)).tolist()
