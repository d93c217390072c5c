"""The report's findings in words, written from the metrics: each sentence follows its numbers, so a
comparison that flips sign flips the sentence. Sentences are LaTeX; numbers are nats per image unless
they say otherwise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Metrics = Mapping[int, Mapping[str, Any]]  # latent dimension -> one train stage's metrics


def series(values: Sequence[tuple[int, float]], fmt: str) -> str:
    """'X at $d = 1$, Y at $d = 2$ and Z at $d = 64$'."""
    parts = [f"{format(v, fmt)} at $d = {d}$" for d, v in values]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def trend(values: Sequence[float]) -> str:
    """'falls', 'rises' or 'does not move monotonically' across ``values`` in order."""
    steps = [b - a for a, b in zip(values, values[1:])]
    if all(s < 0 for s in steps):
        return "falls"
    if all(s > 0 for s in steps):
        return "rises"
    return "does not move monotonically"


def loss_against_d(train: Metrics) -> str:
    dims = sorted(train)
    test, recon, kl = ([train[d][key] for d in dims] for key in ("test_loss", "test_recon", "test_kl"))
    trade = (": a larger latent space buys reconstruction with information in $z$"
             if trend(recon) == "falls" and trend(kl) == "rises" else "")
    return (f"The test loss {trend(test)} with the latent dimension: {series(list(zip(dims, test)), '.2f')}. "
            f"The reconstruction term {trend(recon)} ({series(list(zip(dims, recon)), '.1f')}) and the KL "
            f"term {trend(kl)} ({series(list(zip(dims, kl)), '.1f')}){trade}.")


def importance_weighted_gap(train: Metrics, samples: int) -> str:
    gaps = [(d, train[d]["test_loss"] - train[d]["test_nll_iw"]) for d in sorted(train)]
    if all(g > 0 for _, g in gaps):
        return (f"With $k = {samples}$ samples the importance-weighted estimate lies below the ELBO by "
                f"{series(gaps, '.2f')} nats: at least that much likelihood is lost because $q(z \\mid x)$ "
                "is not the true posterior.")
    above = [d for d, g in gaps if g <= 0]
    return (f"With $k = {samples}$ samples the importance-weighted estimate differs from the ELBO by "
            f"{series(gaps, '.2f')} nats; at $d = {above[0]}$ it is not below the ELBO, which a bound that "
            "tightens with $k$ should be, beyond the noise of one-sample estimates.")


def active_units(train: Metrics) -> str:
    parts = []
    for d in sorted(train):
        used = train[d]["active_units"]
        parts.append(f"$d = {d}$ uses {'all' if used == d else used} of its {d} latent dimension{'s' * (d > 1)}"
                     if used != d or d > 1 else f"$d = {d}$ uses its one latent dimension")
    return "; ".join(parts) + "."


def baseline_comparison(train: Metrics, baseline: Mapping[str, Mapping[str, Any]]) -> str:
    sentences = []
    for d in sorted(train):
        plain = baseline.get(f"d{d}")
        if plain is None:
            continue
        gain = plain["test_loss"] - train[d]["test_loss"]
        verb = f"beats the baseline by {gain:.2f}" if gain > 0 else f"trails the baseline by {-gain:.2f}"
        sentences.append(f"At $d = {d}$ our model {verb} nats ({train[d]['test_loss']:.2f} against "
                         f"{plain['test_loss']:.2f}) after {plain['epochs_run']} epochs.")
    return " ".join(sentences)


def reference_comparison(ours: float, reference: float, d: int) -> str:
    gap = reference - ours
    where = f"{gap:.2f} nats below" if gap > 0 else f"{-gap:.2f} nats above"
    return (f"At $d = {d}$ our minimum validation loss, {ours:.2f}, is {where} the reference study's "
            f"{reference:.2f}.")


def latent_structure(embed: Mapping[str, Mapping[str, Any]], dims: Sequence[int], k: int) -> str:
    knn = [(d, embed[f"d{d}"]["knn_accuracy"]) for d in dims]
    view = [(d, embed[f"d{d}"]["view_knn_accuracy"]) for d in dims]
    silhouette = [(d, embed[f"d{d}"]["silhouette"]) for d in dims]
    best = max(silhouette, key=lambda item: item[1])
    best_knn = max(knn, key=lambda item: item[1])
    caveat = (f", not at $d = {best_knn[0]}$ where the classifier does best: digits that a classifier separates need "
              "not form compact, well-separated clusters" if best[0] != best_knn[0] else "")
    return (f"A {k}-nearest-neighbour classifier on the latent means finds the digit with accuracy "
            f"{series(knn, '.3f')}: it {trend([a for _, a in knn])} with $d$. Inside the 2-D views the same "
            f"classifier scores {series(view, '.3f')}. The silhouette of the digit classes is "
            f"{series(silhouette, '.3f')}, highest at $d = {best[0]}${caveat}.")


def recipe_differences(recipes: Mapping[int, Mapping[str, Any]]) -> str:
    """Which settings, besides $d$, differ between the train blocks, and how."""
    dims = sorted(recipes)
    differing = [key for key in recipes[dims[0]] if len({str(recipes[d][key]) for d in dims}) > 1]
    if not differing:
        return "The models differ only in $d$: every other setting of their recipes is the same."
    parts = [f"{key.replace('_', ' ')} ({series([(d, recipes[d][key]) for d in dims], '')})" for key in differing]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return (f"The models do not differ only in $d$: their recipes also differ in {listed}, so differences "
            "between the dimensions mix the effect of $d$ with that of the recipe.")


def abstract(train: Metrics, embed: Mapping[str, Mapping[str, Any]], ours: float, reference: float,
             reference_dim: int) -> str:
    """The main findings in three sentences, for the abstract."""
    dims = sorted(train)
    test = [(d, train[d]["test_loss"]) for d in dims]
    top = dims[-1]
    knn = [embed[f"d{d}"]["knn_accuracy"] for d in dims]
    return (f"The test loss (negative ELBO) {trend([v for _, v in test])} from {test[0][1]:.2f} nats per image at "
            f"$d = {dims[0]}$ to {test[-1][1]:.2f} at $d = {top}$, where the model uses "
            f"{train[top]['active_units']} of its {top} latent dimensions, and the $k$-nearest-neighbour digit "
            f"accuracy on latent means {trend(knn)} from {knn[0]:.3f} to {knn[-1]:.3f}. "
            + reference_comparison(ours, reference, reference_dim))


def exact_likelihood(train: Metrics, likelihood: Mapping[str, Any], samples: int) -> str:
    """The exact -log p(x) beside the estimates, and what importance weighting still misses on the ladder."""
    dims = sorted(int(key[1:]) for key in likelihood if key[1:].isdigit())
    exact = [(d, likelihood[f"d{d}"]["test_nll_exact"]) for d in dims]
    below_iw = [(d, train[d]["test_nll_iw"] - likelihood[f"d{d}"]["test_nll_exact"]) for d in dims]
    below_elbo = [(d, train[d]["test_loss"] - likelihood[f"d{d}"]["test_nll_exact"]) for d in dims]
    relation = "below" if all(gap > 0 for _, gap in below_iw) else "not everywhere below"
    sentences = [f"Quadrature over $z$ gives the exact $-\\log p(x)$ of the test set at {series(exact, '.2f')}, "
                 f"{relation} the importance-weighted estimate with $k = {samples}$ (by {series(below_iw, '.2f')} "
                 f"nats) and below the ELBO by {series(below_elbo, '.2f')} nats."]
    for d in dims:
        ladder = likelihood[f"d{d}"]["ladder"]
        ks = sorted(int(key[3:]) for key in ladder if key.startswith("iw_"))
        gap = ladder[f"iw_{ks[-1]}"] - ladder["exact"]
        sentences.append(f"On the first {ladder['images']:,} test images at $d = {d}$, $k = {ks[-1]}$ samples still "
                         f"leave the estimate {abs(gap):.2f} nats {'above' if gap > 0 else 'below'} the exact value.")
    return " ".join(sentences)


def reconstruction_floor(floor: float, train: Metrics) -> str:
    best = min(train.values(), key=lambda m: m["test_recon"])
    return (f"The reconstruction term cannot fall below the binary entropy of the test images' grey levels, "
            f"{floor:.2f} nats per image, which only a decoder that reproduced every grey level exactly would reach; "
            f"the best model here is {best['test_recon'] - floor:.2f} nats above it.")
