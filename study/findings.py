"""The report's findings in words, written from the metrics: each sentence follows its numbers, so a
comparison that flips sign flips the sentence. Sentences are LaTeX; numbers are nats per image unless
they say otherwise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from study.stats import CONVERGENCE_FRACTION, SETTLED_FALL, Convergence

Metrics = Mapping[int, Mapping[str, Any]]  # latent dimension -> one train stage's metrics
# Kaufman and Rousseeuw's reading of an average silhouette: below this, no substantial cluster structure.
NO_STRUCTURE_SILHOUETTE = 0.25


def listing(parts: Sequence[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def series(values: Sequence[tuple[int, float]], fmt: str) -> str:
    """'X at $d = 1$, Y at $d = 2$ and Z at $d = 64$'."""
    return listing([f"{format(v, fmt)} at $d = {d}$" for d, v in values])


def percent(share: float) -> str:
    """A share as a LaTeX percentage: whole points, or one decimal below one percent so that it is not 0."""
    return f"{100 * share:.1f}\\%" if 0 < share < 0.01 else f"{100 * share:.0f}\\%"


def article(number: int) -> str:
    """'a' or 'an' before a number as it is read aloud: an 8, an 11, an 18, an 80, a 1."""
    text = str(number)
    return "an" if text.startswith("8") or (len(text) in (2, 5) and text[:2] in ("11", "18")) else "a"


def with_d(values: Sequence[float], subject: str = "it") -> str:
    """': it rises with $d$' and the like; nothing for a single model, which has no trend."""
    return f": {subject} {trend(values)} with $d$" if len(values) > 1 else ""


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
        if used == d:
            whole = {1: "its one latent dimension", 2: "both of its latent dimensions"}
            parts.append(f"$d = {d}$ uses {whole.get(d, f'all {d} of its latent dimensions')}")
        else:
            parts.append(f"$d = {d}$ uses {used} of its {d} latent dimension{'s' * (d > 1)}")
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
    text = (f"{article(k).capitalize()} {k}-nearest-neighbour classifier on the latent means finds the digit with "
            f"accuracy {series(knn, '.3f')}{with_d([a for _, a in knn])}. Inside the 2-D views the same "
            f"classifier scores {series(view, '.3f')}. The silhouette of the digit classes is "
            f"{series(silhouette, '.3f')}")
    best_knn = max(knn, key=lambda item: item[1])
    if all(value < NO_STRUCTURE_SILHOUETTE for _, value in silhouette):
        return (f"{text}: below {NO_STRUCTURE_SILHOUETTE} at every $d$, which \\citet{{kaufman1990}} read as no "
                "substantial cluster structure. In Euclidean distance the digits are not compact clusters with gaps "
                f"between them, even at $d = {best_knn[0]}$, where the classifier names the right digit for "
                f"{percent(best_knn[1])} of the test images.")
    best = max(silhouette, key=lambda item: item[1])
    caveat = (f", not at $d = {best_knn[0]}$ where the classifier does best: digits that a classifier separates need "
              "not form compact, well-separated clusters" if best[0] != best_knn[0] else "")
    return f"{text}, highest at $d = {best[0]}${caveat}."


def digit_order(view: pd.DataFrame) -> str:
    """The order of the digits along a one-dimensional latent space (``view``: embed's CSV for d = 1)."""
    medians = view.groupby("label")["x"].median().sort_values()
    return (f"Along its one latent dimension the $d = 1$ model orders the digits, by the median code of each "
            f"digit's test images, as {', '.join(str(digit) for digit in medians.index)} "
            "(Figure~\\ref{fig:traversal} decodes that line).")


def digit_confusions(views: Mapping[int, pd.DataFrame]) -> str:
    """Per d, the digits the latent k-NN classifier finds most and least often and its commonest mistake
    (``views``: embed's CSVs, with each test image's label and the digit the classifier gave it)."""
    parts = []
    for d, view in sorted(views.items()):
        right = view["label"] == view["predicted"]
        found = right.groupby(view["label"]).mean()
        best, worst = found.idxmax(), found.idxmin()
        part = (f"at $d = {d}$ it finds every digit equally often ({percent(found[best])})"
                if found[best] == found[worst] else
                f"at $d = {d}$ it finds {article(best)} {best} most often ({percent(found[best])}) and "
                f"{article(worst)} {worst} least often ({percent(found[worst])})")
        mistakes = view[~right].groupby(["label", "predicted"]).size().reset_index(name="count")
        if mistakes.empty:
            parts.append(f"{part}, and never takes one digit for another")
            continue
        top = mistakes.sort_values(["count", "label", "predicted"], ascending=[False, True, True]).iloc[0]
        share = top["count"] / (view["label"] == top["label"]).sum()
        parts.append(f"{part}, and its commonest mistake takes {article(top['label'])} {top['label']} for "
                     f"{article(top['predicted'])} {top['predicted']} ({percent(share)} of the {top['label']}s)")
    return f"Digit by digit, the classifier on latent means does unevenly: {'; '.join(parts)}."


def reconstructions(embed: Mapping[str, Any], dims: Sequence[int], k: int, images: int) -> str:
    """Whether reconstructions keep the digit of their image, against how often the judge is right at all."""
    kept = [(d, embed[f"d{d}"]["recon_digit_kept"]) for d in sorted(dims)]
    ceiling = embed["pixel_knn_accuracy"]
    top, share = kept[-1]  # the largest d
    gap = round(100 * share) - round(100 * ceiling)  # in the whole percentage points the sentence shows
    against = ("the same share as for the images themselves" if gap == 0 else
               f"{abs(gap)} point{'s' * (abs(gap) > 1)} {'below' if gap < 0 else 'above'} the images themselves")
    return (f"{article(k).capitalize()} {k}-nearest-neighbour classifier on pixels, fit on the training images, "
            f"names the digit of {percent(ceiling)} of the first {images:,} test images, and of their "
            f"reconstructions {listing([f'{percent(v)} at $d = {d}$' for d, v in kept])}"
            f"{with_d([v for _, v in kept], 'the share')}; at $d = {top}$ it is {against}.")


def samples(embed: Mapping[str, Any], dims: Sequence[int], images: int) -> str:
    """How evenly each model's prior samples spread over the digits, as the pixel classifier names them."""
    parts = []
    for d in dims:
        shares = embed[f"d{d}"]["sample_digit_shares"]
        common = max(range(10), key=lambda digit: shares[digit])
        rare = min(range(10), key=lambda digit: shares[digit])
        parts.append(f"at $d = {d}$ the commonest digit, {common}, takes {percent(shares[common])} of them and "
                     f"the rarest, {rare}, {percent(shares[rare])}")
    return (f"Named by the same classifier, the {images:,} prior samples of each model spread over the digits "
            f"as follows: {'; '.join(parts)}. An even spread would give each digit about 10\\%; the classifier "
            "names a digit for every sample, legible or not.")


def differing_settings(recipes: Mapping[Any, Mapping[str, Any]]) -> list[str]:
    """The settings whose values are not the same in every recipe, in the order of the first."""
    first = next(iter(recipes.values()))
    return [key for key in first if len({str(recipe[key]) for recipe in recipes.values()}) > 1]


def recipe_differences(recipes: Mapping[int, Mapping[str, Any]]) -> str:
    """Which settings, besides $d$, differ between the train blocks."""
    differing = [key.replace("_", " ") for key in differing_settings(recipes) if key != "seed"]
    if not differing:
        return "The main models differ only in $d$ and their seed: every other setting of their recipes is the same."
    return (f"Besides $d$, the main models' recipes differ in {listing(differing)}; "
            "Table~\\ref{tab:differences} gives the measurement behind each difference, and Table~\\ref{tab:sweep} "
            "compares the dimensions with one recipe and one budget.")


def falls(curves: Mapping[int, Convergence]) -> str:
    """'over the last 20\\% of its epochs the validation loss fell by X at $d = 1$ ... nats'."""
    share = f"{round(CONVERGENCE_FRACTION * 100)}\\%"
    return (f"over the last {share} of its epochs the validation loss fell by "
            f"{series(sorted((d, c.fall) for d, c in curves.items()), '.2f')} nats")


def too_short(curves: Mapping[int, Convergence | None]) -> str:
    """The models whose single epoch leaves nothing to judge convergence by, as a sentence ('' if none)."""
    single = [f"$d = {d}$" for d, c in sorted(curves.items()) if c is None]
    if not single:
        return ""
    return (f"At {listing(single)} the model trained for one epoch, which leaves no earlier epoch to judge its "
            "convergence against.")


def convergence(curves: Mapping[int, Convergence | None], schedules: Mapping[int, str]) -> str:
    """How much each main model's validation loss still fell at the end of its run (``schedules``: each model's
    learning-rate schedule, which says what a small fall means)."""
    judged = {d: c for d, c in curves.items() if c is not None}
    if not judged:
        return too_short(curves)
    still = [f"$d = {d}$" for d, c in sorted(judged.items()) if c.fall > SETTLED_FALL]
    verdict = (f"less than the {SETTLED_FALL:g} nats this study takes as settled at every $d$" if not still else
               f"more than the {SETTLED_FALL:g} nats this study takes as settled at {listing(still)}, "
               f"{'which was' if len(still) == 1 else 'all'} still learning")
    cosine = [f"$d = {d}$" for d in sorted(judged) if schedules[d] == "cosine"]
    caveat = ""
    if cosine:
        runs = "those epochs run" if len(cosine) == len(judged) else f"the last epochs of {listing(cosine)} run"
        caveat = (f" Under the cosine schedule {runs} at less than a tenth of the peak learning rate, so a small fall "
                  "says that a run has settled, not that a longer run would not end lower.")
    return " ".join(filter(None, [f"For each main model, {falls(judged)} (Table~\\ref{{tab:convergence}}): {verdict}."
                                  + caveat, too_short(curves)]))


def pixel_treatment(binarize: str) -> str:
    """What the models see, for prepare-data's ``binarize`` setting."""
    if binarize == "dynamic":
        return ("Training binarizes each batch afresh, drawing every pixel as Bernoulli(grey level); the validation "
                "and test images are one fixed such draw, as in the dynamically binarized MNIST of "
                "\\citet{burda2016}.")
    return "Images are grey levels in $[0, 1]$, not binarized."


def likelihood_scale(binarize: str) -> str:
    """What the nats can be compared with."""
    if binarize == "dynamic":
        return ("On binarized images the Bernoulli likelihood is a normalised distribution, so these nats compare "
                "with likelihoods on binarized MNIST, though not with the grey-level runs of the reference study.")
    return ("The Bernoulli likelihood of grey levels is not a normalised density on $[0, 1]$ "
            "\\citep{loaizaganem2019}: these nats are comparable with each other and with the reference study, "
            "which uses the same loss, but not with likelihoods on binarized MNIST.")


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


def reconstruction_floor(floor: float, train: Metrics, binarize: str = "none") -> str:
    best = min(train.values(), key=lambda m: m["test_recon"])
    if binarize == "dynamic":
        return (f"The test images are binary, so the reconstruction term has no floor above zero; the best model's "
                f"is {best['test_recon']:.2f} nats per image.")
    return (f"The reconstruction term cannot fall below the binary entropy of the test images' grey levels, "
            f"{floor:.2f} nats per image, which only a decoder that reproduced every grey level exactly would reach; "
            f"the best model here is {best['test_recon'] - floor:.2f} nats above it.")
