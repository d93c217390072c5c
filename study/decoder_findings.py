"""The report's sentences about the likelihood as a density: the sweep's recipes compared across decoders on what
both decoders share (the negative ELBO read as a continuous Bernoulli on dequantized pixels, the pixel error of
reconstructions, reconstructions that keep their digit, prior samples a classifier names, the k-NN accuracy on
latent means, active units), how that comparison moves with the clip of lambda, the continuous Bernoulli's own
loss in its own units, the exact likelihood at d <= 2 beside its importance-weighted estimate, and Loaiza-Ganem
and Cunningham's result beside ours.

A Bernoulli recipe's loss and a continuous-Bernoulli recipe's are in other units and are never compared as
numbers; every comparison here is on a measure both decoders share. Each sentence follows its numbers, so a
comparison that flips flips the sentence, and each says what it cannot judge (one seed, one d, no recipe of a
decoder)."""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from study.findings import listing
from study.stats import Spread, bend, exceeds_twice_the_spread, spreads, steps
from study.sweep import Sweep, cb_column
from study.sweep_findings import BLOCK_COLUMNS, dims_text, group_name, groups, recipe_name, setting_text
from vae.data import N_PIXELS
from vae.pixels import bits_per_dimension

CB = "continuous-bernoulli"
BERNOULLI = "bernoulli"


@dataclass(frozen=True)
class Paper:
    """Loaiza-Ganem and Cunningham (NeurIPS 2019): their MNIST comparison, as read from the authors' poster (not
    from their paper's tables). ELBOs in nats per image, higher is better; this report gives negative ELBOs."""

    latent_dim: int = 20
    layers: str = "two hidden layers of 500 ReLU units"
    cb_elbo: float = 1470
    bernoulli_elbo: float = 1416  # a Bernoulli VAE read as a continuous Bernoulli through the inverse mean map
    clip: str = "1e-04"  # of lambda, in that reading
    knn: tuple[float, float] = (0.96, 0.97)  # k-NN accuracy on latent means, about equal for both decoders


PAPER = Paper()


@dataclass(frozen=True)
class Measure:
    column: str
    name: str  # as the subject of a sentence
    lower_is_better: bool
    decimals: int


def shared_measures(sweep: Sweep) -> list[Measure]:
    """The measures every recipe has, whatever its decoder, in the order of Figure sweep-decoders; the likelihood
    read as a continuous Bernoulli at the first clip (the paper's), the one Figure sweep-decoders draws."""
    first = sweep.cb_clips[0]
    return [Measure(cb_column(first), f"the negative ELBO read as a density ($\\lambda$ clipped at {clip_tex(first)})",
                    True, 1),
            Measure("pixel_mse", "the pixel error of reconstructions", True, 4),
            Measure("recon_digit_kept", "the share of reconstructions that keep their digit", False, 3),
            Measure("samples_named", "the share of prior samples the pixel classifier names", False, 3),
            Measure("knn_accuracy", "the $k$-NN digit accuracy on latent means", False, 3)]


def clip_tex(clip: str) -> str:
    """A clip as the cells name it, in LaTeX: "1e-04" -> "$10^{-4}$", "none" -> "none"."""
    if clip == "none":
        return "none"
    value = float(clip)
    exponent = round(math.log10(value))
    return f"$10^{{{exponent}}}$" if math.isclose(value, 10.0**exponent, rel_tol=1e-9) else f"${clip}$"


def number(value: float, decimals: int = 1) -> str:
    """A number as math-mode content: "-1412.3", or "1.6 \\times 10^{7}" from 100,000 on, where digits would run
    across the column."""
    if math.isfinite(value) and abs(value) >= 1e5:
        exponent = math.floor(math.log10(abs(value)))
        return f"{value / 10**exponent:.1f} \\times 10^{{{exponent}}}"
    return f"{value:.{decimals}f}"


def nats(value: float, decimals: int = 1) -> str:
    """A number in math mode, so that a minus is a minus."""
    return f"${number(value, decimals)}$"


def spread_tex(s: Spread, decimals: int = 1) -> str:
    """Mean and standard deviation over seeds in one math span; the mean alone for one seed."""
    return f"${number(s.mean, decimals)}" + (f" \\pm {number(s.std, decimals)}$" if s.known else "$")


def cb_recipes(sweep: Sweep) -> list[str]:
    return sweep.with_decoder(CB)


def bernoulli_recipes(sweep: Sweep) -> list[str]:
    return [r for r in sweep.recipes if sweep.decoder(r) != CB]


def twin(sweep: Sweep, recipe: str) -> str | None:
    """The recipe with the other decoder and every other setting the same: the comparison that isolates the
    decoder."""
    settings = sweep.recipes[recipe]
    for name, other in sweep.recipes.items():
        if other["decoder"] != settings["decoder"] and all(other[k] == settings[k] for k in BLOCK_COLUMNS
                                                           if k != "decoder"):
            return name
    return None


def capital(text: str) -> str:
    return text[0].upper() + text[1:]


def best(sweep: Sweep, recipes: Sequence[str], column: str, d: int, lower_is_better: bool = True) -> str:
    """Of ``recipes``, the one whose mean of ``column`` at ``d`` is best."""
    spread = sweep.spread(column)
    return (min if lower_is_better else max)(recipes, key=lambda r: spread[(r, d)].mean)


def margin_verdict(a: Spread, b: Spread) -> str:
    if not (a.known and b.known):
        return "one seed: the spread is unknown"
    return "more than twice the seed spread" if exceeds_twice_the_spread(a, b) else "within twice the seed spread"


def clip_words(clips: Sequence[str], every: Sequence[str] = ()) -> str:
    """'with $\\lambda$ clipped at $10^{-4}$ and $10^{-16}$', 'unclipped', or both; 'at every clip' where
    ``clips`` are all of ``every`` (more than one)."""
    if len(clips) > 1 and list(clips) == list(every):
        return "at every clip" + (", unclipped included," if "none" in clips else "")
    clipped = [clip_tex(c) for c in clips if c != "none"]
    parts = [f"with $\\lambda$ clipped at {listing(clipped)}"] if clipped else []
    return " and ".join(parts + (["unclipped"] if "none" in clips else []))


def clip_winners(sweep: Sweep) -> list[tuple[str, str, float, str]]:
    """At the largest d, per clip: the recipe that scores the better density, the best continuous-Bernoulli recipe
    or the best Bernoulli recipe read as a continuous Bernoulli; by how many nats; and the verdict on the margin."""
    top, cbs, berns = sweep.dims[-1], cb_recipes(sweep), bernoulli_recipes(sweep)
    winners = []
    for clip in sweep.cb_clips:
        column = cb_column(clip)
        spread = sweep.spread(column)
        a, b = best(sweep, cbs, column, top), best(sweep, berns, column, top)
        won, lost = (a, b) if spread[(a, top)].mean < spread[(b, top)].mean else (b, a)
        winners.append((clip, won, spread[(lost, top)].mean - spread[(won, top)].mean,
                        margin_verdict(spread[(won, top)], spread[(lost, top)])))
    return winners


def abstract(sweep: Sweep) -> str:
    """The decoders as densities in one sentence, for the abstract: at which clips each scores the better density
    at the largest d; nothing where the sweep lacks a decoder."""
    if not cb_recipes(sweep) or not bernoulli_recipes(sweep):
        return ""
    winners = clip_winners(sweep)
    cb_clips = [clip for clip, won, *_ in winners if sweep.decoder(won) == CB]
    other = [clip for clip, *_ in winners if clip not in cb_clips]
    lead = ("Beside the Bernoulli, the sweep trains the continuous Bernoulli, a decoder that is a density, and "
            "compares the two on what they share (Section~\\ref{sec:density}): scored as densities over dequantized "
            f"pixels at $d = {sweep.dims[-1]}$,")
    if not other:
        return (f"{lead} the continuous Bernoulli beats a Bernoulli read through the inverse of its mean map at "
                "every clip of that reading's $\\lambda$.")
    if not cb_clips:
        return (f"{lead} a Bernoulli read through the inverse of the continuous Bernoulli's mean map beats the "
                "continuous Bernoulli at every clip of its $\\lambda$.")
    return (f"{lead} the continuous Bernoulli beats a Bernoulli read through the inverse of its mean map "
            f"{clip_words(cb_clips)}, but not {clip_words(other)}: which decoder wins turns on the clip.")


def introduction(sweep: Sweep) -> str:
    """What the study asks of its decoders, for the introduction: a question only where the sweep has both."""
    text = ("The loss the study inherits scores grey levels with a Bernoulli, which is not a density over them "
            "(Section~\\ref{sec:model} says what its numbers are and are not)")
    if not cb_recipes(sweep) or not bernoulli_recipes(sweep):
        return text + "."
    return (text + "; the sweep therefore also trains a decoder that is one, the continuous Bernoulli of "
            "\\citet{loaizaganem2019}, and asks how the two compare on what they share.")


def clip_discussion(sweep: Sweep) -> str:
    """Whether the rule that reads a Bernoulli as a density decided the verdict, for the discussion."""
    lead = "The density reading needs a rule for the Bernoulli's means near 0 and 1"
    if not cb_recipes(sweep) or not bernoulli_recipes(sweep):
        return f"{lead}; with one decoder only, this sweep does not put that rule to the test."
    decoders = {sweep.decoder(won) for _, won, *_ in clip_winners(sweep)}
    if len(decoders) > 1:
        return f"{lead}, and Table~\\ref{{tab:clips}} shows that the rule can decide the verdict."
    return (f"{lead}; in this sweep it moves the numbers but not the verdict (Table~\\ref{{tab:clips}}), which "
            "another rule or budget may change.")


def clip_comparison(sweep: Sweep) -> str:
    """At the largest d, which decoder scores the better density at each clip of lambda, grouped into runs of clips
    with the same winner; at the first clip, at which d; and, unclipped, how a Bernoulli read as a continuous
    Bernoulli fares against the uniform density."""
    top, clips = sweep.dims[-1], sweep.cb_clips
    cbs, berns = cb_recipes(sweep), bernoulli_recipes(sweep)
    if not cbs:
        text = ("The sweep has no recipe with the continuous-Bernoulli decoder, so no density of its own competes with "
                "its Bernoulli recipes read as continuous Bernoullis (Table~\\ref{tab:clips}).")
    elif not berns:
        text = ("Every recipe of the sweep has the continuous-Bernoulli decoder, so no Bernoulli decoder is read as a "
                "density beside them; the clip only bounds how far from $1/2$ their own $\\lambda$ may go "
                "(Table~\\ref{tab:clips}).")
    else:
        winners = clip_winners(sweep)
        runs: list[list[tuple]] = []
        for winner in winners:
            if runs and runs[-1][-1][1] == winner[1]:
                runs[-1].append(winner)
            else:
                runs.append([winner])
        clauses = []
        for run in runs:
            recipe = run[0][1]
            who = recipe_name(sweep, recipe) + ("" if sweep.decoder(recipe) == CB else
                                                 " read as a continuous Bernoulli")
            verdicts = {verdict for *_, verdict in run}
            if len(verdicts) == 1:
                margins = f"by {listing([nats(margin) for _, _, margin, _ in run])} nats; {verdicts.pop()}"
            else:
                margins = "by " + listing([f"{nats(margin)} nats, {verdict}" for _, _, margin, verdict in run])
            clauses.append(f"{clip_words([c for c, *_ in run], clips)} {who} scores the better density ({margins})")
        text = f"At $d = {top}$ (Table~\\ref{{tab:clips}}), {'; '.join(clauses)}."
        decoders = {sweep.decoder(won) == CB for _, won, *_ in winners}
        text += (" Which decoder scores the better density thus turns on the clip: a choice of how the Bernoulli is "
                 "read, not of either model." if len(decoders) > 1 else
                 " The same decoder scores the better density at every clip.")
        text += " " + first_clip_by_d(sweep)
    if berns and "none" in clips:
        text += " " + unclipped(sweep)
    return text


def first_clip_by_d(sweep: Sweep) -> str:
    """At the first clip (the one Figure sweep-decoders draws), at which d the continuous Bernoulli scores the
    better density and at which the Bernoulli does."""
    clip = sweep.cb_clips[0]
    column = cb_column(clip)
    spread = sweep.spread(column)
    cbs, berns = cb_recipes(sweep), bernoulli_recipes(sweep)
    cb_wins = [d for d in sweep.dims
               if spread[(best(sweep, cbs, column, d), d)].mean < spread[(best(sweep, berns, column, d), d)].mean]
    where = f"with $\\lambda$ clipped at {clip_tex(clip)}" if clip != "none" else "unclipped"
    lead = f"Read {where}, as Figure~\\ref{{fig:sweep-decoders}} draws it,"
    if len(cb_wins) == len(sweep.dims):
        return f"{lead} the continuous Bernoulli scores the better density at every $d$ of the sweep."
    if not cb_wins:
        return f"{lead} the Bernoulli scores the better density at every $d$ of the sweep."
    rest = [d for d in sweep.dims if d not in cb_wins]
    return (f"{lead} the continuous Bernoulli scores the better density at {dims_text(cb_wins)} and the Bernoulli at "
            f"{dims_text(rest)}.")


def unclipped(sweep: Sweep) -> str:
    """How the Bernoulli recipes read as continuous Bernoullis fare with lambda unclipped, at the largest d."""
    top = sweep.dims[-1]
    spread = sweep.spread(cb_column("none"))
    berns = bernoulli_recipes(sweep)
    worst = max(berns, key=lambda r: spread[(r, top)].mean)
    value = spread[(worst, top)].mean
    text = (f"Unclipped, {recipe_name(sweep, worst)} read as a continuous Bernoulli scores {nats(value)} nats per "
            f"image at $d = {top}$" if len(berns) == 1 else
            f"Unclipped, the Bernoulli recipes read as continuous Bernoullis score up to {nats(value)} nats per image "
            f"at $d = {top}$ ({recipe_name(sweep, worst)})")
    if value <= 0:
        return text + ", no worse than the uniform density on $[0, 1]^{784}$, which scores 0."
    return (text + ": worse than the uniform density on $[0, 1]^{784}$, which scores 0, and catastrophic. A Bernoulli "
            "mean $m$ near 0 maps to a continuous Bernoulli whose density lies within about $m$ of 0, far closer "
            "than a dequantized black pixel, which lies anywhere in $(0, 1/256)$; the clip is what keeps that "
            "reading finite.")


def own_loss(sweep: Sweep) -> str:
    """The continuous-Bernoulli recipes' own loss at the largest d, in nats of dequantized pixels and in bits per
    dimension, and where it is lowest."""
    cbs = cb_recipes(sweep)
    if not cbs:
        return ("The sweep has no recipe with the continuous-Bernoulli decoder, so every loss it reports is a "
                "Bernoulli's (Table~\\ref{tab:sweep}).")
    top = sweep.dims[-1]
    elbo, iw = sweep.spread("test_loss"), sweep.spread("test_nll_iw")
    parts = []
    for recipe in cbs:
        low = min(sweep.dims, key=lambda d: elbo[(recipe, d)].mean)
        e, w = elbo[(recipe, top)].mean, iw[(recipe, top)].mean
        parts.append(f"{recipe_name(sweep, recipe)} reaches a test negative ELBO of {nats(e)} nats per image at "
                     f"$d = {top}$ ({bits_per_dimension(e, N_PIXELS):.3f} bits per dimension) and an "
                     f"importance-weighted $-\\log p(x)$ of {nats(w)} ({bits_per_dimension(w, N_PIXELS):.3f} bits per "
                     "dimension)"
                     + (f"; its loss is lowest at $d = {low}$" if low != top else ", its lowest over the sweep"))
    return (f"{capital('; '.join(parts))} (Table~\\ref{{tab:own}}). These are negative log-densities of the "
            "dequantized test images: a density on $[0, 1]^{784}$ may exceed 1, so they may be negative, and they "
            "compare with no Bernoulli loss. In bits per dimension, $(-\\log p + 784 \\ln 256)/(784 \\ln 2)$, they "
            "bound the likelihood of the 8-bit images as density models report theirs.")


def bend_of(sweep: Sweep, recipe: str, measure: Measure) -> int | None:
    """The d from which no step improves ``measure`` by more than twice the seed spread (None while it still
    improves at the largest d)."""
    curve = sweep.curve(recipe, measure.column)
    sign = 1 if measure.lower_is_better else -1
    return bend(steps({d: Spread(sign * s.mean, s.std, s.runs) for d, s in curve.items()}))


def shared_bends(sweep: Sweep) -> str:
    """Where each curve of a shared measure stops improving beyond twice the seed spread, and where active units
    stop growing, said once for every group of recipes that agree."""
    top = sweep.dims[-1]
    if len(sweep.dims) < 2:
        return "The sweep has one latent dimension, so its curves have no step to judge."
    if len(sweep.seeds) < 2:
        return ("Each cell trained one seed, so no step of these curves along $d$ can be set against the seed spread "
                "(Table~\\ref{tab:decoders} gives the values).")

    def phrase(outcome: Hashable) -> str:
        return f"from $d = {outcome}$" if outcome is not None else f"not by $d = {top}$"

    # Measures whose recipes bend alike share a clause.
    by_measure = {m.name: tuple((tuple(recipes), outcome) for recipes, outcome in
                                groups({r: bend_of(sweep, r, m) for r in sweep.recipes}))
                  for m in shared_measures(sweep)}
    sentences = []
    for names, outcome in groups(by_measure):
        clauses = [f"{phrase(bent)} with {group_name(sweep, list(recipes))}" for recipes, bent in outcome]
        sentences.append(f"{listing(names)} {'stops' if len(names) == 1 else 'stop'} improving {listing(clauses)}")
    units = {r: sweep.units_stop_growing(r) for r in sweep.recipes}
    unit_clauses = [(f"stop growing at $d = {stop}$" if stop is not None else f"still grow at $d = {top}$")
                    + f" with {group_name(sweep, recipes)}" for recipes, stop in groups(units)]
    return ("Judged against twice the seed spread, " + "; ".join(sentences) + f"; and active units "
            f"{listing(unit_clauses)} (Table~\\ref{{tab:decoders}}).")


def decoder_comparison(sweep: Sweep) -> str:
    """At the largest d, on each shared measure, whether the continuous Bernoulli or the Bernoulli does better:
    each continuous-Bernoulli recipe against its twin (the same recipe with the Bernoulli), or against the best
    Bernoulli recipe where it has none; measures with the same verdict share a clause."""
    cbs, berns = cb_recipes(sweep), bernoulli_recipes(sweep)
    if not cbs or not berns:
        which = "continuous-Bernoulli" if not cbs else "Bernoulli"
        return (f"The sweep has no recipe with the {which} decoder, so it compares no decoders; "
                "Table~\\ref{tab:decoders} gives its recipes on the measures every decoder shares.")
    top = sweep.dims[-1]
    sentences = []
    for recipe in cbs:
        other = twin(sweep, recipe)
        outcomes: dict[str, tuple[str, str]] = {}
        for measure in shared_measures(sweep):
            spread = sweep.spread(measure.column)
            rival = other or best(sweep, berns, measure.column, top, measure.lower_is_better)
            ours, theirs = spread[(recipe, top)], spread[(rival, top)]
            better = (ours.mean < theirs.mean) == measure.lower_is_better and ours.mean != theirs.mean
            outcomes[measure.name] = ("better" if better else "worse" if ours.mean != theirs.mean else "equal",
                                      margin_verdict(ours, theirs))
        rival_name = (f"{recipe_name(sweep, other)}, the same recipe with the Bernoulli decoder" if other else
                      "the best Bernoulli recipe on each measure")
        clauses = [f"{outcome[0]} on {listing(names)} ({outcome[1]})" if outcome[0] != "equal" else
                   f"as well on {listing(names)}" for names, outcome in groups(outcomes)]
        sentences.append(f"At $d = {top}$, against {rival_name}, {recipe_name(sweep, recipe)} does "
                         f"{listing(clauses)}.")
    return " ".join(sentences)


def nearest_dim(dims: Sequence[int], target: int) -> int:
    return min(dims, key=lambda d: (abs(d - target), d))


def layers_text(hidden: str, activation: str) -> str:
    """A recipe's hidden layers in words: 'hidden layers of 512 and 256 ELU units'."""
    widths = setting_text("hidden", hidden).split("--")
    label = {"relu": "ReLU", "elu": "ELU", "silu": "SiLU"}.get(activation, activation)
    return f"hidden layers of {listing(widths)} {label} units"


def paper(sweep: Sweep) -> str:
    """Loaiza-Ganem and Cunningham's comparison beside ours, at the sweep's d nearest to theirs, and what differs."""
    p = PAPER
    ours_sign = f"{-p.cb_elbo:,.0f}".replace(",", "{,}")  # a comma in math mode is punctuation, spaced
    theirs = (f"\\citet{{loaizaganem2019}} report, for a latent dimension of {p.latent_dim} and {p.layers} on "
              f"dequantized pixels, an ELBO of {p.cb_elbo:,.0f} nats per image for their continuous-Bernoulli VAE "
              f"against {p.bernoulli_elbo:,.0f} for a Bernoulli VAE read as a continuous Bernoulli through the inverse "
              f"mean map with $\\lambda$ clipped at {clip_tex(p.clip)}: the continuous Bernoulli better by "
              f"{p.cb_elbo - p.bernoulli_elbo:.0f} nats, with $k$-NN accuracies on latent means about equal "
              f"({p.knn[0]:.2f} to {p.knn[1]:.2f}). These figures are read from the authors' poster, not from their "
              f"paper's tables. We report the negative ELBO: their {p.cb_elbo:,.0f} is our ${ours_sign}$.")
    d = nearest_dim(sweep.dims, p.latent_dim)
    clip = p.clip if p.clip in sweep.cb_clips else sweep.cb_clips[0]
    column = cb_column(clip)
    spread, knn = sweep.spread(column), sweep.spread("knn_accuracy")
    cbs, berns = cb_recipes(sweep), bernoulli_recipes(sweep)
    at = f"At $d = {d}$, the sweep's nearest to their {p.latent_dim}"
    at += "" if clip == p.clip else f", and with $\\lambda$ clipped at {clip_tex(clip)}, the sweep's first clip"
    if not cbs or not berns:
        missing = "continuous-Bernoulli" if not cbs else "Bernoulli"
        shown = cbs or berns
        ours = (f" Our sweep has no recipe with the {missing} decoder, so it cannot repeat their comparison. {at}, "
                + listing([f"{recipe_name(sweep, r)} scores an ELBO of {nats(-spread[(r, d)].mean)} read as a "
                           "continuous Bernoulli" for r in shown])
                + ".")
        return theirs + ours
    cb = cbs[0]
    rival = twin(sweep, cb) or best(sweep, berns, column, d)
    a, b = spread[(cb, d)], spread[(rival, d)]
    gain = b.mean - a.mean  # how much better the continuous Bernoulli's ELBO is
    verdict = margin_verdict(a, b)
    agree = (gain > 0) == (p.cb_elbo > p.bernoulli_elbo)
    settings = sweep.recipes[cb]
    ours = (f" {at}, {recipe_name(sweep, cb)} scores an ELBO of {nats(-a.mean)} nats per image and "
            f"{recipe_name(sweep, rival)}, read the same way, {nats(-b.mean)}: the continuous Bernoulli "
            f"{'better' if gain > 0 else 'worse'} by {number(abs(gain))} nats ({verdict}), "
            f"{'as in' if agree else 'unlike'} their result. Our $k$-NN accuracies on latent means are "
            f"{knn[(cb, d)].mean:.3f} and {knn[(rival, d)].mean:.3f}. What differs: their encoder and decoder have "
            f"{p.layers}, ours {layers_text(settings['hidden'], settings['activation'])}; their latent dimension is "
            f"{p.latent_dim}, ours {d}; we train {sweep.epochs} epochs from each of {len(sweep.seeds)} "
            f"seed{'s' * (len(sweep.seeds) > 1)}; we dequantize as $(k + u)/256$ and evaluate every model on one "
            "fixed draw of $u$, which their treatment of the pixels need not match; and the sign.")
    return theirs + ours


def draws(sweep: Sweep) -> str:
    """What Figures sweep-reconstructions and sweep-samples show for each recipe: the decoder's mean, and beside it
    lambda where the decoder is a continuous Bernoulli, and why the mean is what a model expects a pixel to be."""
    seed = sweep.seeds[0]
    text = (f"Figures~\\ref{{fig:sweep-reconstructions}} and~\\ref{{fig:sweep-samples}} show what each $d$ draws: "
            f"for every $d$ of the sweep and every recipe, eight reconstructions of the first test images and eight "
            f"decodings of draws from the prior, from the model of seed {seed}. Each strip shows the decoder's mean, "
            "$\\mathbb{E}[x \\mid z]$, what the model expects each pixel to be.")
    cbs = cb_recipes(sweep)
    if not cbs:
        return text + (" Every recipe of the sweep has the Bernoulli decoder, whose mean is its parameter $\\lambda$: "
                       "one strip shows both.")
    return text + (f" For {group_name(sweep, cbs)} a second strip shows $\\lambda$ itself. The continuous "
                   "Bernoulli's mean is not $\\lambda$ but lies between $\\lambda$ and $1/2$, so its means look "
                   "greyer than its $\\lambda$: where $\\lambda$ is near 0 or 1, the mean is pulled toward $1/2$. "
                   "\\citet{loaizaganem2019} draw $\\lambda$; the pixel error of Figure~\\ref{fig:sweep-decoders} is "
                   "that of the mean.")


def own_loss_rows(sweep: Sweep) -> list[dict[str, str]]:
    """Per continuous-Bernoulli recipe and d: its test negative ELBO and importance-weighted -log p(x), in nats per
    image and bits per dimension, mean and standard deviation over seeds."""
    runs = sweep.runs.assign(bpd_loss=[bits_per_dimension(v, N_PIXELS) for v in sweep.runs["test_loss"]],
                             bpd_iw=[bits_per_dimension(v, N_PIXELS) for v in sweep.runs["test_nll_iw"]])
    columns = {"test_loss": 2, "bpd_loss": 3, "test_nll_iw": 2, "bpd_iw": 3}
    spread = {c: spreads(runs, c, ["recipe", "latent_dim"]) for c in columns}
    return [{"recipe": sweep.labels[r], "d": str(d),
             **{c: spread_tex(spread[c][(r, d)], n) for c, n in columns.items()}}
            for r in cb_recipes(sweep) for d in sweep.dims]


def exact_rows(sweep: Sweep) -> list[dict[str, str]]:
    """Per recipe and d at which the cells computed the exact likelihood: the images, the exact -log p(x), the
    importance-weighted estimate on the same images and the gap between them, mean and standard deviation over
    seeds, and the largest change that halving the grid spacing made."""
    runs = sweep.runs[sweep.runs["exact_nll"].notna()]
    if runs.empty:
        return []
    runs = runs.assign(exact_gap=runs["exact_iw_nll"] - runs["exact_nll"],
                       halved=runs["exact_halved_change"].abs())
    by = ["recipe", "latent_dim"]
    spread = {c: spreads(runs, c, by) for c in ("exact_nll", "exact_iw_nll", "exact_gap")}
    halved = runs.groupby(by)["halved"].max()
    images = runs.groupby(by)["exact_images"].first()
    rows = []
    for r in sweep.recipes:
        dims = [d for d in sweep.dims if (r, d) in spread["exact_nll"]]
        rows += [{"recipe": sweep.labels[r], "d": str(d), "images": f"{int(images[(r, d)]):,}",
                  **{c: spread_tex(spread[c][(r, d)], 2) for c in spread}, "halved": f"{halved[(r, d)]:.4f}"}
                 for d in dims]
    return rows


def exact(sweep: Sweep, iw_samples: int) -> str:
    """The exact -log p(x) at d <= 2 beside its importance-weighted estimate on the same images, and what the gap
    means for each decoder."""
    runs = sweep.runs[sweep.runs["exact_nll"].notna()]
    if runs.empty:
        return ("The sweep has no $d \\le 2$, where quadrature over $z$ is within reach, so it sets no exact "
                "likelihood beside the estimates.")
    gap = (runs["exact_iw_nll"] - runs["exact_nll"]).groupby([runs["recipe"], runs["latent_dim"]]).mean()
    dims = sorted(runs["latent_dim"].unique().tolist())
    outcomes = {}
    for recipe in sweep.recipes:
        below = [d for d in dims if (recipe, d) in gap and gap[(recipe, d)] <= 0]
        outcomes[recipe] = tuple(below)

    def phrase(below: tuple) -> str:
        if not below:
            return f"lies above the exact value at {dims_text(dims)}, as an estimate that bounds it from above should"
        return (f"is not above the exact value at {dims_text(list(below))}, which a bound should be, beyond the "
                "noise of its samples")

    halved = runs["exact_halved_change"].abs().max()
    clauses = [f"with {group_name(sweep, recipes)} it {phrase(outcome)}" for recipes, outcome in groups(outcomes)]
    text = (f"On the first {int(runs['exact_images'].iloc[0]):,} test images, quadrature over $z$ gives each model's "
            f"exact $-\\log p(x)$ and an importance-weighted estimate with $k = {iw_samples}$ samples is computed on "
            f"the same images: {'; '.join(clauses)} (Table~\\ref{{tab:exact-sweep}}). Halving the grid spacing moves "
            f"the exact value by at most {halved:.4f} nats.")
    cbs, berns = cb_recipes(sweep), bernoulli_recipes(sweep)
    if cbs:
        text += (f" For {group_name(sweep, cbs)} both are of a density over the dequantized test images, so the gap "
                 "is what importance weighting with this $k$ still misses of its likelihood.")
    if berns:
        text += (f" For {group_name(sweep, berns)} the quadrature integrates the Bernoulli's unnormalized function "
                 "of grey levels: exact for that function, but not the likelihood of a density over the images, so "
                 "the gap measures the estimator, not a likelihood.")
    return text


def decoders_rows(sweep: Sweep) -> list[dict[str, str]]:
    """Per recipe and d, every shared measure and active units, mean and standard deviation over seeds."""
    measures = [*shared_measures(sweep), Measure("active_units", "active units", False, 1)]
    spread = {m.column: sweep.spread(m.column) for m in measures}
    return [{"recipe": sweep.labels[r], "d": str(d),
             **{m.column: spread_tex(spread[m.column][(r, d)], m.decimals) for m in measures}}
            for r in sweep.recipes for d in sweep.dims]


def clip_rows(sweep: Sweep) -> list[dict[str, str]]:
    """At the largest d, per clip of lambda: every recipe read as a continuous Bernoulli, mean and standard
    deviation over seeds."""
    top = sweep.dims[-1]
    rows = []
    for clip in sweep.cb_clips:
        spread = sweep.spread(cb_column(clip))
        rows.append({"clip": clip_tex(clip), **{sweep.labels[r]: spread_tex(spread[(r, top)], 1)
                                                for r in sweep.recipes}})
    return rows

