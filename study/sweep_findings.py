"""The report's sentences about the latent-dimension sweep, written from its cells: how much seeds move a result,
which recipe is better where, where the loss curve flattens and what each step along d buys in reconstruction
and costs in KL, where active units stop growing, how the published curve compares, and whether the sweep is
current. Each sentence follows its numbers, so a comparison that flips flips the sentence."""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from study.findings import differing_settings, falls, listing, too_short
from study.stats import Convergence, bend, exceeds_twice_the_spread, steps
from study.sweep import RECIPE_COLUMNS, TRAIN_COLUMNS, Sweep

# Kingma and Welling (2014), Figure 2: the test-set lower bound of their VAE on binarized MNIST, in nats per
# image, read off the figure at the end of training, per latent dimension; at d = 200 it is no better than at 20.
KINGMA_WELLING = {3: 133, 5: 119, 10: 103, 20: 99}
KINGMA_WELLING_FLAT_UP_TO = 200
# Burda, Grosse and Salakhutdinov (2016), Table 1: active units of their one-layer VAE with 50 latent units.
BURDA_ACTIVE = (19, 20, 50)


def recipe_name(recipe: str) -> str:
    return f"the recipe of \\texttt{{{recipe}}}"


def step_word(dims: Sequence[int]) -> str:
    """'doubling' when every step of ``dims`` doubles d, as in the default grid; 'step' otherwise."""
    return "doubling" if all(b == 2 * a for a, b in zip(dims, dims[1:])) else "step"


def signed(change: float) -> str:
    """A change with its sign, in math mode so that the minus is a minus: '$+0.41$', '$-3.10$'."""
    return f"${change:+.2f}$"


def dims_text(dims: Sequence[int]) -> str:
    """'$d = 1$', '$d = 1$ and 2', '$d = 8$, 16 and 32'."""
    return listing([f"$d = {dims[0]}$", *map(str, dims[1:])])


def noise(sweep: Sweep) -> str:
    """How much a change of seed moves a cell's test loss."""
    spread = sweep.spread()
    if not all(s.known for s in spread.values()):
        return ("Each cell of the sweep ran from one seed, so the sweep does not measure what a change of seed "
                "moves, and no difference below can be set against it.")
    sds = [s.std for s in spread.values()]
    return (f"Over the {len(sweep.seeds)} seeds of each cell ({listing([str(s) for s in sweep.seeds])}) the test "
            f"loss moves by a standard deviation of {min(sds):.2f} to {max(sds):.2f} nats (median "
            f"{statistics.median(sds):.2f}).")


def recipe_comparison(sweep: Sweep) -> str:
    """Per d, which recipe gives the lower mean test loss, grouped into runs of d with the same winner, and
    whether the margin exceeds twice the spread."""
    names = list(sweep.recipes)
    if len(names) < 2:
        return f"The sweep trains one recipe, {recipe_name(names[0])}, so it compares no recipes."
    spread = sweep.spread()
    winners = []
    for d in sweep.dims:
        ranked = sorted(names, key=lambda name: spread[(name, d)].mean)
        best, second = spread[(ranked[0], d)], spread[(ranked[1], d)]
        beyond = exceeds_twice_the_spread(best, second) if best.known and second.known else None
        winners.append((d, ranked[0], second.mean - best.mean, beyond))
    runs = [list(group) for _, group in itertools.groupby(winners, key=lambda winner: winner[1])]
    clauses = []
    for run in runs:
        margins = f"by {listing([f'{margin:.2f}' for _, _, margin, _ in run])} nats"
        judged = [beyond for *_, beyond in run]
        if None in judged:
            verdict = "one seed: the spread is unknown"
        elif all(judged):
            verdict = "each more than twice the spread" if len(run) > 1 else "more than twice the spread"
        elif not any(judged):
            verdict = "each within twice the spread" if len(run) > 1 else "within twice the spread"
        else:
            verdict = f"beyond twice the spread at {dims_text([d for d, *_, beyond in run if beyond])} only"
        clauses.append(f"{recipe_name(run[0][1])} at {dims_text([d for d, *_ in run])} ({margins}; {verdict})")
    if len(runs) == 1:
        text = f"At every $d$ of the sweep the mean test loss is lower with {clauses[0]}."
    else:
        text = f"The mean test loss is lower with {listing(clauses)}."
    changes = [f"between $d = {a[-1][0]}$ and $d = {b[0][0]}$" for a, b in zip(runs, runs[1:])]
    if changes:
        text += f" The better recipe changes {listing(changes)}."
    return text


def matching_recipe(block: Mapping[str, Any], sweep: Sweep) -> str | None:
    """The sweep recipe that is train block ``block`` but for its epochs and seed (the sweep sets its own)."""
    for name, recipe in sweep.recipes.items():
        if all(str(block[key]) == recipe[key] for key in RECIPE_COLUMNS if key != "epochs"):
            return name
    return None


def epochs_reason(recipes: Mapping[int, Mapping[str, Any]], curves: Mapping[int, Convergence | None],
                  train: Mapping[int, Mapping[str, Any]], sweep: Sweep) -> str:
    """Why the budgets differ: how much each run still fell at its end, and what a longer budget bought."""
    judged = {d: c for d, c in curves.items() if c is not None}
    parts = [f"{falls(judged)[0].upper()}{falls(judged)[1:]} (Table~\\ref{{tab:convergence}})." if judged else "",
             too_short(curves)]
    spread = sweep.spread()
    for d in sorted(recipes):
        name = matching_recipe(recipes[d], sweep)
        if recipes[d]["epochs"] > sweep.epochs and name is not None and (name, d) in spread:
            parts.append(f"At $d = {d}$ its recipe reaches {spread[(name, d)].tex()} in {sweep.epochs} epochs "
                         f"(Table~\\ref{{tab:sweep}}) and {train[d]['test_loss']:.2f} in {recipes[d]['epochs']}.")
    return " ".join(filter(None, parts))


def difference_reasons(recipes: Mapping[int, Mapping[str, Any]], curves: Mapping[int, Convergence | None],
                       train: Mapping[int, Mapping[str, Any]], sweep: Sweep) -> dict[str, str]:
    """For every setting in which the train blocks differ, the measurement behind the difference."""
    # What the sweep's recipes differ in (never epochs: the sweep has one budget).
    swept = differing_settings({name: {key: recipe[key] for key in RECIPE_COLUMNS}
                                for name, recipe in sweep.recipes.items()})
    reasons = {}
    for key in differing_settings(recipes):
        if key == "epochs":
            reasons[key] = epochs_reason(recipes, curves, train, sweep)
        elif key == "seed":
            reasons[key] = "A label, not a setting: Table~\\ref{tab:sweep} measures what a change of seed moves."
        elif key in swept:
            what = listing([k.replace("_", " ") for k in swept])
            reasons[key] = f"The sweep's recipes differ in {what}. {recipe_comparison(sweep)}"
        else:
            reasons[key] = "Not measured by the pipeline or the sweep."
    return reasons


def flattening(sweep: Sweep, recipe: str) -> str:
    """From which d on a step along d lowers the test loss by less than twice the seed spread."""
    curve = sweep.curve(recipe)
    dims = sorted(curve)
    if len(dims) < 2:
        return f"With {recipe_name(recipe)} the sweep has one latent dimension, so it draws no curve."
    if not all(s.known for s in curve.values()):
        return (f"With {recipe_name(recipe)} each cell ran from one seed, so no step along $d$ can be judged against "
                "the seed spread.")
    word = step_word(dims)
    path = steps(curve)
    flat_from = bend(path)
    if flat_from is None:
        return (f"With {recipe_name(recipe)} the test loss has not flattened by $d = {dims[-1]}$: its last {word}, "
                f"from $d = {path[-1].start}$, still lowers it by {path[-1].gain:.2f} nats, more than twice the seed "
                f"spread ({path[-1].noise:.2f}).")
    before = [s for s in path if s.start < flat_from]
    after = [s for s in path if s.start >= flat_from]
    text = (f"With {recipe_name(recipe)} no {word} from $d = {flat_from}$ on lowers the test loss by more than twice "
            f"the seed spread ({'changes' if len(after) > 1 else 'a change'} of "
            f"{listing([signed(-s.gain) for s in after])} nats against twice the spread, "
            f"{listing([f'{s.noise:.2f}' for s in after])})")
    if not before:
        return text + ": the curve is flat over the whole sweep."
    bought = [s for s in before if s.gain > s.noise]
    if len(bought) == len(before):
        return text + (f"; before, each {word} lowered it by more "
                       f"({listing([f'{s.gain:.2f}' for s in bought])} nats).")
    return text + (f"; before, {len(bought)} of the {len(before)} {word}s lowered it by more "
                   f"({listing([f'{s.gain:.2f}' for s in bought])} nats).")


def trade(sweep: Sweep, recipe: str) -> str:
    """What the steps along d buy in reconstruction and cost in KL, before and after the loss flattens."""
    recon, kl = sweep.curve(recipe, "test_recon"), sweep.curve(recipe, "test_kl")
    dims = sorted(recon)
    if len(dims) < 2:
        return ""
    flat_from = sweep.flattens_from(recipe)
    spans = [(dims[0], dims[-1])] if flat_from in (None, dims[0]) else [(dims[0], flat_from), (flat_from, dims[-1])]
    parts = [f"from $d = {a}$ to {b} the reconstruction term changes by {signed(recon[b].mean - recon[a].mean)} nats "
             f"and the KL term by {signed(kl[b].mean - kl[a].mean)}" for a, b in spans]
    return f"With {recipe_name(recipe)}, {'; '.join(parts)} (Table~\\ref{{tab:steps}} gives every {step_word(dims)})."


def active_units(sweep: Sweep, recipe: str) -> str:
    """Up to which d every latent dimension is active, from which d the count stops growing, and whether
    that is where the test loss flattens."""
    active = {d: s.mean for d, s in sweep.curve(recipe, "active_units").items()}
    dims = sorted(active)
    full = [d for d in dims if active[d] == d]
    stop, flat_from = sweep.units_stop_growing(recipe), sweep.flattens_from(recipe)
    text = f"With {recipe_name(recipe)}, "
    if len(full) == len(dims):
        text += f"every latent dimension is active at every $d$ of the sweep, up to $d = {dims[-1]}$"
    elif full:
        text += f"every latent dimension is active up to $d = {max(full)}$"
    else:
        text += "no $d$ of the sweep keeps all of its latent dimensions active"
    if len(dims) > 1:
        top = dims[-1]
        text += (f"; the count stops growing at $d = {stop}$ ({active[stop]:.1f} active units on average)"
                 if stop is not None else "; the count still grows at the largest $d$")
        text += f", and at $d = {top}$ the model uses {active[top]:.1f} of its {top}"
        if flat_from is not None and stop is not None:
            text += (f": it stops where the test loss flattens" if stop == flat_from else
                     f", while the test loss flattens from $d = {flat_from}$")
        elif flat_from is not None:
            text += f", though the test loss flattens from $d = {flat_from}$"
    return text + "."


def knn_accuracy(sweep: Sweep, recipe: str, k: int) -> str:
    """How the k-NN digit accuracy on latent means moves along d."""
    knn = {d: s.mean for d, s in sweep.curve(recipe, "knn_accuracy").items()}
    dims = sorted(knn)
    best = max(dims, key=lambda d: knn[d])
    text = (f"With {recipe_name(recipe)}, a {k}-nearest-neighbour classifier on the latent means finds the digit "
            f"with accuracy {knn[dims[0]]:.3f} at $d = {dims[0]}$")
    if len(dims) == 1:
        return text + "."
    if best == dims[-1]:
        return text + f", rising to {knn[best]:.3f} at $d = {best}$."
    return text + f", highest at $d = {best}$ ({knn[best]:.3f}) and {knn[dims[-1]]:.3f} at $d = {dims[-1]}$."


def literature(sweep: Sweep) -> str:
    """Our curve's bend beside Kingma and Welling's, and our active units beside Burda et al.'s."""
    first, *rest = KINGMA_WELLING.items()
    shown = listing([f"{first[1]} nats at $d = {first[0]}$", *(f"{value} at $d = {d}$" for d, value in rest)])
    ours = []
    for recipe in sweep.recipes:
        if sweep.judged(recipe):
            flat_from = sweep.flattens_from(recipe)
            ours.append(f"from $d = {flat_from}$ with {recipe_name(recipe)}" if flat_from is not None else
                        f"not by $d = {sweep.dims[-1]}$ with {recipe_name(recipe)}")
    low, high, units = BURDA_ACTIVE
    top = sweep.dims[-1]
    used = listing([f"{sweep.curve(recipe, 'active_units')[top].mean:.1f} with {recipe_name(recipe)}"
                    for recipe in sweep.recipes])
    text = (f"\\citet{{kingma2014}} report a test negative ELBO of about {shown} (their Figure~2, values read off "
            f"the figure), and none better at $d = {KINGMA_WELLING_FLAT_UP_TO}$: their curve flattens from about "
            f"$d = {max(KINGMA_WELLING)}$.")
    if ours:
        text += f" Ours flattens {listing(ours)}."
    return text + (" Their models saw binarized MNIST through a different architecture and budget, so only the "
                   "shape of the curves compares, not their level. "
                   f"\\citet{{burda2016}} find {low} to {high} of {units} latent units active in their one-layer VAE; "
                   f"our cells at $d = {top}$ use {used}.")


def currency(all_params: Mapping[str, Mapping[str, Any]], binarize: str, code_md5: str, sweep: Sweep) -> str:
    """Whether the sweep's cells ran the code, params and data this report was built with."""
    stale = []
    for name, recipe in sweep.recipes.items():
        now = {**{key: all_params[name][key] for key in RECIPE_COLUMNS if key != "epochs"},
               "epochs": all_params["sweep"]["epochs"],
               **{key: all_params["train"][key.removeprefix("train.")] for key in TRAIN_COLUMNS}}
        changed = [key for key, value in now.items() if str(value) != recipe[key]]
        if changed:
            stale.append(f"the settings of {recipe_name(name)} "
                         f"({listing([k.replace('_', ' ') for k in changed])})")
    if binarize != sweep.binarize:
        stale.append(f"the binarization ({sweep.binarize} in the sweep, {binarize} here)")
    if set(sweep.runs["code_md5"]) != {code_md5}:
        stale.append("the code a cell runs (stage \\texttt{sweep} and the library it imports)")
    cells = f"The sweep's {len(sweep.runs)} cells"
    if not stale:
        return f"{cells} ran the code, settings and data this report was built with."
    return (f"{cells} are older than {listing(stale)}: their results are not those of the pipeline as it now "
            "stands, and \\texttt{dvc repro} retrains every cell that changed (\\texttt{dvc status} names them).")


def abstract(sweep: Sweep) -> str:
    """The sweep in one sentence per recipe, for the abstract: where the loss flattens and active units stop."""
    parts = []
    top = sweep.dims[-1]
    for recipe in sweep.recipes:
        if not sweep.judged(recipe):
            continue
        flat_from, stop = sweep.flattens_from(recipe), sweep.units_stop_growing(recipe)
        where = f"flattens from $d = {flat_from}$" if flat_from is not None else f"still falls at $d = {top}$"
        units = f"stop growing at $d = {stop}$" if stop is not None else f"still grow at $d = {top}$"
        parts.append(f"with {recipe_name(recipe)} the test loss {where} and active units {units}")
    if not parts:
        return ""
    return f"Over {dims_text(sweep.dims)}, {'; '.join(parts)}."
