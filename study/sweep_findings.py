"""The report's sentences about the latent-dimension sweep, written from its cells: how much seeds move a result,
which recipe is better where (among recipes whose losses compare: those with one decoder), where the loss curve
flattens and what each step along d buys in reconstruction and costs in KL, where active units stop growing, how
the published curve compares, which sweep recipe each main model's recipe is, and whether the sweep is current.

A recipe is named for what it is ("the ELU recipe with the continuous Bernoulli"), and what holds for several
recipes is said once for all of them: recipes whose qualitative outcome is the same share a clause ("with the ReLU
and ELU recipes ...; with the ELU recipe with the continuous Bernoulli ..."), and their numbers are left to the
tables. Each sentence follows its numbers, so a comparison that flips flips the sentence."""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

from study.findings import differing_settings, falls, listing, too_short, trend
from study.latex import escape
from study.stats import Convergence, bend, exceeds_twice_the_spread, steps, twice_the_spread
from study.sweep import RECIPE_COLUMNS, TRAIN_COLUMNS, Sweep

# Kingma and Welling (2014), Figure 2: the test-set lower bound of their VAE on binarized MNIST, in nats per
# image, read off the figure at the end of training, per latent dimension; at d = 200 it is no better than at 20.
KINGMA_WELLING = {3: 133, 5: 119, 10: 103, 20: 99}
KINGMA_WELLING_FLAT_UP_TO = 200
# Burda, Grosse and Salakhutdinov (2016), Table 1: active units of their one-layer VAE with 50 latent units.
BURDA_ACTIVE = (19, 20, 50)
# The settings of a recipe in words, for sentences that say where two recipes differ.
SETTING_WORDS = {"hidden": "hidden layers", "activation": "activation", "decoder": "decoder", "epochs": "epochs",
                 "batch_size": "batch size", "lr": "learning rate", "lr_schedule": "learning-rate schedule",
                 "kl_warmup_epochs": "KL warm-up", "train.device": "device", "train.compile": "compilation",
                 "train.precision": "precision", "train.iw_samples": "importance samples"}
DECODER_WORDS = {"bernoulli": "Bernoulli", "continuous-bernoulli": "continuous-Bernoulli"}
# The settings of a sweep block: a train block's but for epochs and seed, which the sweep sets for all recipes.
BLOCK_COLUMNS = tuple(key for key in RECIPE_COLUMNS if key != "epochs")


def named(label: str) -> str:
    """A recipe's label as a noun: "ELU with the continuous Bernoulli" -> "the ELU recipe with the continuous
    Bernoulli"."""
    head, sep, tail = label.partition(" with ")
    return f"the {head} recipe" + (f" with {tail}" if sep else "")


def recipe_name(sweep: Sweep, recipe: str) -> str:
    """"the ReLU recipe", "the ELU recipe with the continuous Bernoulli" (from :attr:`Sweep.labels`)."""
    return named(sweep.labels[recipe])


def group_name(sweep: Sweep, recipes: Sequence[str]) -> str:
    """Several recipes as one subject: "every recipe" (all of the sweep's, two or more), "the ReLU and ELU
    recipes", "the ELU recipe and the ELU recipe with the continuous Bernoulli"."""
    if len(recipes) > 1 and set(recipes) == set(sweep.recipes):
        return "every recipe"
    labels = [sweep.labels[r] for r in recipes]
    if len(labels) > 1 and not any(" with " in label for label in labels):
        return f"the {listing(labels)} recipes"
    return listing([named(label) for label in labels])


def groups(outcomes: Mapping[str, Hashable]) -> list[tuple[list[str], Hashable]]:
    """The recipes of ``outcomes`` (recipe -> outcome) grouped by equal outcome, in the order outcomes first
    appear, each group in the sweep's order."""
    grouped: dict[Hashable, list[str]] = {}
    for recipe, outcome in outcomes.items():
        grouped.setdefault(outcome, []).append(recipe)
    return [(recipes, outcome) for outcome, recipes in grouped.items()]


def by_group(sweep: Sweep, outcomes: Mapping[str, Hashable], phrase: Callable[[Any], str]) -> str:
    """One clause per group of recipes with the same outcome: "With every recipe <phrase>." or "With the ReLU
    and ELU recipes <phrase>; with the ELU recipe with the continuous Bernoulli <phrase>."."""
    clauses = [f"with {group_name(sweep, recipes)} {phrase(outcome)}" for recipes, outcome in groups(outcomes)]
    text = "; ".join(clauses)
    return text[0].upper() + text[1:] + "."


def step_word(dims: Sequence[int]) -> str:
    """'doubling' when every step of ``dims`` doubles d, as in the default grid; 'step' otherwise."""
    return "doubling" if all(b == 2 * a for a, b in itertools.pairwise(dims)) else "step"


def signed(change: float) -> str:
    """A change with its sign, in math mode so that the minus is a minus: '$+0.41$', '$-3.10$'."""
    return f"${change:+.2f}$"


def dims_text(dims: Sequence[int]) -> str:
    """'$d = 1$', '$d = 1$ and 2', '$d = 8$, 16 and 32'."""
    return listing([f"$d = {dims[0]}$", *map(str, dims[1:])])


def setting_text(key: str, value: str) -> str:
    """A setting's value as the report prints it: escaped, the hidden layers as '512--256'."""
    if key == "hidden":
        return "--".join(part.strip() for part in value.strip("[]").split(",")) or "none"
    return escape(value)


def noise(sweep: Sweep) -> str:
    """How much a change of seed moves a model's test loss, per decoder (their losses are in other units)."""
    spread = sweep.spread()
    if not all(s.known for s in spread.values()):
        return ("Each cell of the sweep trained one seed, so the sweep does not measure what a change of seed "
                "moves, and no difference below can be set against it.")
    decoders = list(dict.fromkeys(sweep.decoder(r) for r in sweep.recipes))
    parts = []
    for decoder in decoders:
        sds = [s.std for (recipe, _), s in spread.items() if sweep.decoder(recipe) == decoder]
        where = f"with the {DECODER_WORDS.get(decoder, decoder)} decoder " if len(decoders) > 1 else ""
        parts.append(f"{where}by a standard deviation of {min(sds):.2f} to {max(sds):.2f} nats (median "
                     f"{statistics.median(sds):.2f})")
    return (f"Over the {len(sweep.seeds)} seeds of each cell ({listing([str(s) for s in sweep.seeds])}) the test "
            f"loss moves {listing(parts)}.")


def compare(sweep: Sweep, names: Sequence[str]) -> str:
    """Per d, which of ``names`` (recipes with one decoder) gives the lower mean test loss, grouped into runs of d
    with the same winner, and whether the margin exceeds twice the spread."""
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
        where = "" if len(runs) == 1 else f" at {dims_text([d for d, *_ in run])}"
        clauses.append(f"{recipe_name(sweep, run[0][1])}{where} ({margins}; {verdict})")
    if len(runs) == 1:
        text = f"at every $d$ of the sweep the mean test loss is lower with {clauses[0]}."
    else:
        text = f"the mean test loss is lower with {listing(clauses)}."
    changes = [f"between $d = {a[-1][0]}$ and $d = {b[0][0]}$" for a, b in itertools.pairwise(runs)]
    if changes:
        text += f" The better recipe changes {listing(changes)}."
    return text


def recipe_comparison(sweep: Sweep) -> str:
    """Which recipe has the lower test loss, among the recipes that share a decoder: a Bernoulli's loss and a
    continuous Bernoulli's are in other units and are never compared as numbers."""
    names = list(sweep.recipes)
    if len(names) < 2:
        return f"The sweep trains one recipe, {recipe_name(sweep, names[0])}, so it compares no recipes."
    decoders = list(dict.fromkeys(sweep.decoder(name) for name in names))
    parts, alone = [], []
    for decoder in decoders:
        same = sweep.with_decoder(decoder)
        if len(same) < 2:
            alone.append(same[0])
            continue
        text = compare(sweep, same)
        if len(decoders) > 1:
            parts.append(f"Among the recipes with the {DECODER_WORDS.get(decoder, decoder)} decoder, {text}")
        else:
            parts.append(text[0].upper() + text[1:])
    for recipe in alone:
        word = DECODER_WORDS.get(sweep.decoder(recipe), sweep.decoder(recipe))
        first = recipe_name(sweep, recipe)
        parts.append(f"{first[0].upper()}{first[1:]} is the sweep's only recipe with the {word} decoder: its test "
                     "loss is in other units than the other recipes' and is compared with none of them "
                     "(Section~\\ref{sec:density} compares the decoders on measures they share).")
    return " ".join(parts)


def matching_recipe(block: Mapping[str, Any], sweep: Sweep) -> str | None:
    """The sweep recipe that is train block ``block`` but for its epochs and seed (the sweep sets its own)."""
    for name, recipe in sweep.recipes.items():
        if all(str(block[key]) == recipe[key] for key in BLOCK_COLUMNS):
            return name
    return None


def nearest_recipe(block: Mapping[str, Any], sweep: Sweep) -> tuple[str, list[str]] | None:
    """The sweep recipe with train block ``block``'s activation and decoder that differs from it in the fewest
    other settings, and those settings; None where no recipe has its activation and decoder."""
    near = [(name, [key for key in BLOCK_COLUMNS if str(block[key]) != recipe[key]])
            for name, recipe in sweep.recipes.items()
            if all(str(block[key]) == recipe[key] for key in ("activation", "decoder"))]
    return min(near, key=lambda item: len(item[1])) if near else None


def main_recipes(blocks: Mapping[int, Mapping[str, Any]], sweep: Sweep) -> str:
    """For each main model (``blocks``: d -> its train block), which sweep recipe it is, but for its epochs and
    seed; or which is nearest (same activation and decoder) and which settings differ; or that none is."""
    outcomes: dict[str, Hashable] = {}
    for d, block in sorted(blocks.items()):
        stage = f"\\texttt{{train-d{d}}}"
        name = matching_recipe(block, sweep)
        if name is not None:
            outcomes[stage] = ("same", name)
            continue
        near = nearest_recipe(block, sweep)
        if near is None:
            outcomes[stage] = ("none", str(block["activation"]), str(block["decoder"]))
        else:
            name, keys = near
            outcomes[stage] = ("near", name, tuple((key, str(block[key])) for key in keys))
    same = [(stages, outcome) for stages, outcome in groups(outcomes) if outcome[0] == "same"]
    sentences = []
    if same:
        uses = [f"{listing(stages)} {'trains' if len(stages) == 1 else 'train'} with {recipe_name(sweep, outcome[1])}"
                for stages, outcome in same]
        sentences.append(f"{listing(uses)} of the sweep, but for epochs and seed, which the sweep sets for all its "
                         "recipes.")
    for stages, outcome in groups(outcomes):
        if outcome[0] == "near":
            name = recipe_name(sweep, outcome[1])
            whose = listing([f"{stage}'s" for stage in stages])
            ours = [f"{SETTING_WORDS.get(key, key)} {setting_text(key, value)}" for key, value in outcome[2]]
            theirs = listing([setting_text(key, sweep.recipes[outcome[1]][key]) for key, _ in outcome[2]])
            several = len(ours) > 1 or len(stages) > 1
            against = (f"{name}'s {theirs}" if " with " not in name else
                       f"{'those' if several else 'that'} of {name}, {theirs}")
            sentences.append(f"{whose} {listing(ours)} {'differ' if several else 'differs'} from {against}, the "
                             f"sweep recipe nearest to {'them' if len(stages) > 1 else 'it'} (the same activation and "
                             "decoder).")
        elif outcome[0] == "none":
            sentences.append(f"No sweep recipe has {listing(stages)}'s activation ({escape(outcome[1])}) and "
                             f"decoder ({escape(outcome[2])}): the sweep does not measure "
                             f"{'its recipe' if len(stages) == 1 else 'their recipes'}.")
    return " ".join(sentences)


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
            what = listing([SETTING_WORDS.get(k, k) for k in swept])
            reasons[key] = f"The sweep's recipes differ in {what}. {recipe_comparison(sweep)}"
        else:
            reasons[key] = "Not measured by the pipeline or the sweep."
    return reasons


def flattening_outcome(sweep: Sweep, recipe: str) -> Hashable:
    """What a recipe's test-loss curve does, in terms that several recipes can share: where it flattens and how
    many steps before bought more than twice the seed spread (the numbers are in Table~\\ref{tab:steps})."""
    curve = sweep.curve(recipe)
    dims = sorted(curve)
    if len(dims) < 2:
        return ("one d",)
    if not all(s.known for s in curve.values()):
        return ("one seed",)
    path = steps(curve)
    flat_from = bend(path)
    if flat_from is None:
        return ("falling", path[-1].start)
    before = [s for s in path if s.start < flat_from]
    return ("flat", flat_from, sum(s.gain > s.noise for s in before), len(before))


def flattening(sweep: Sweep) -> str:
    """From which d on a step along d lowers the test loss by less than twice the seed spread, said once for
    every group of recipes whose curves agree (each against its own spread, in its own units)."""
    dims = sweep.dims
    word = step_word(dims)

    def phrase(outcome: tuple) -> str:
        if outcome[0] == "one d":
            return "the sweep has one latent dimension, so it draws no curve"
        if outcome[0] == "one seed":
            return "each cell trained one seed, so no step along $d$ can be judged against the seed spread"
        if outcome[0] == "falling":
            return (f"the test loss has not flattened by $d = {dims[-1]}$: its last {word}, from $d = {outcome[1]}$, "
                    "still lowers it by more than twice the seed spread")
        _, flat_from, bought, before = outcome
        text = f"no {word} from $d = {flat_from}$ on lowers the test loss by more than twice the seed spread"
        if not before:
            return text + ": the curve is flat over the whole sweep"
        if bought == before:
            return text + (f", while each {word} before did" if before > 1 else f", while the {word} before did")
        return text + f", while {bought} of the {before} {word}s before did"

    text = by_group(sweep, {r: flattening_outcome(sweep, r) for r in sweep.recipes}, phrase)
    return text + (f" Table~\\ref{{tab:steps}} gives every {word}." if len(dims) > 1 else "")


def direction(change: float) -> str:
    return "falls" if change < 0 else "rises" if change > 0 else "does not move"


def trade_outcome(sweep: Sweep, recipe: str) -> Hashable:
    """Per span of d (up to where the loss flattens, and from there), which way the reconstruction and KL terms
    move, and whether the reconstruction bought more than the KL cost (the net change beyond twice the spread)."""
    recon, kl, loss = (sweep.curve(recipe, m) for m in ("test_recon", "test_kl", "test_loss"))
    dims = sorted(recon)
    flat_from = sweep.flattens_from(recipe)
    spans = [(dims[0], dims[-1])] if flat_from in (None, dims[0]) else [(dims[0], flat_from), (flat_from, dims[-1])]
    outcome = []
    for a, b in spans:
        net = loss[b].mean - loss[a].mean
        if loss[a].known and loss[b].known and abs(net) <= twice_the_spread(loss[a], loss[b]):
            balance = "even"
        else:
            balance = "recon" if net < 0 else "kl"
        outcome.append((a, b, direction(recon[b].mean - recon[a].mean), direction(kl[b].mean - kl[a].mean), balance))
    return tuple(outcome)


def trade(sweep: Sweep) -> str:
    """What the steps along d buy in reconstruction and cost in KL, before and after the loss flattens, said once
    for every group of recipes that agree (the numbers are in Table~\\ref{tab:steps})."""
    dims = sweep.dims
    if len(dims) < 2:
        return ""

    def phrase(outcome: tuple) -> str:
        parts = []
        for a, b, recon, kl, balance in outcome:
            part = f"from $d = {a}$ to {b} the reconstruction term {recon} and the KL term {kl}"
            if recon == "falls" and kl == "rises":
                part += {"even": ", by about as much (within twice the seed spread of the test loss)",
                         "recon": ", by less than the reconstruction term falls",
                         "kl": ", by more than the reconstruction term falls"}[balance]
            parts.append(part)
        return ", and ".join(parts)

    text = by_group(sweep, {r: trade_outcome(sweep, r) for r in sweep.recipes}, phrase)
    return text[:-1] + f" (Table~\\ref{{tab:steps}} gives every {step_word(dims)})."


def active_outcome(sweep: Sweep, recipe: str) -> Hashable:
    active = {d: s.mean for d, s in sweep.curve(recipe, "active_units").items()}
    dims = sorted(active)
    full = [d for d in dims if active[d] == d]
    whole = "all" if len(full) == len(dims) else max(full) if full else None
    if len(dims) < 2:
        return (whole, None, None)
    return (whole, sweep.units_stop_growing(recipe), sweep.flattens_from(recipe))


def active_units(sweep: Sweep) -> str:
    """Up to which d every latent dimension is active, from which d the count stops growing, and whether that is
    where the test loss flattens, said once for every group of recipes that agree."""
    dims = sweep.dims

    def phrase(outcome: tuple) -> str:
        whole, stop, flat_from = outcome
        if whole == "all":
            text = f"every latent dimension is active at every $d$ of the sweep, up to $d = {dims[-1]}$"
        elif whole is not None:
            text = f"every latent dimension is active up to $d = {whole}$"
        else:
            text = "no $d$ of the sweep keeps all of its latent dimensions active"
        if len(dims) > 1:
            text += (f"; the count stops growing at $d = {stop}$" if stop is not None else
                     "; the count still grows at the largest $d$")
            if flat_from is not None and stop is not None:
                text += (", where the test loss flattens" if stop == flat_from else
                         f", while the test loss flattens from $d = {flat_from}$")
            elif flat_from is not None:
                text += f", though the test loss flattens from $d = {flat_from}$"
        return text

    return by_group(sweep, {r: active_outcome(sweep, r) for r in sweep.recipes}, phrase)[:-1] + (
        " (Table~\\ref{tab:decoders} gives the counts).")


def knn_accuracy(sweep: Sweep, k: int) -> str:
    """At which d the k-NN digit accuracy on latent means is highest and how it moves along d, said once for
    every group of recipes that agree (the accuracies are in Table~\\ref{tab:decoders})."""
    dims = sweep.dims
    outcomes = {}
    for recipe in sweep.recipes:
        knn = sweep.curve(recipe, "knn_accuracy")
        means = [knn[d].mean for d in dims]
        outcomes[recipe] = (dims[means.index(max(means))], trend(means) if len(dims) > 1 else None)

    def phrase(outcome: tuple) -> str:
        best, moves = outcome
        where = " (the largest $d$ of the sweep)" if best == dims[-1] else ""
        return f"most often at $d = {best}${where}" + (
            f", its accuracy {'rising' if moves == 'rises' else 'falling'} at every step" if moves in ("rises", "falls")
            else "")

    clauses = [f"with {group_name(sweep, recipes)}, {phrase(outcome)}" for recipes, outcome in groups(outcomes)]
    return (f"A {k}-nearest-neighbour classifier on the latent means finds the digit, {'; '.join(clauses)} "
            "(Table~\\ref{tab:decoders}).")


def literature(sweep: Sweep) -> str:
    """Our curve's bend beside Kingma and Welling's, and our active units beside Burda et al.'s."""
    first, *rest = KINGMA_WELLING.items()
    shown = listing([f"{first[1]} nats at $d = {first[0]}$", *(f"{value} at $d = {d}$" for d, value in rest)])
    judged = {recipe: sweep.flattens_from(recipe) for recipe in sweep.recipes if sweep.judged(recipe)}
    ours = [(f"from $d = {flat_from}$" if flat_from is not None else f"not by $d = {sweep.dims[-1]}$")
            + f" with {group_name(sweep, recipes)}" for recipes, flat_from in groups(judged)]
    low, high, units = BURDA_ACTIVE
    top = sweep.dims[-1]
    counts = [sweep.curve(recipe, "active_units")[top].mean for recipe in sweep.recipes]
    used = (f"{counts[0]:.1f}" if max(counts) - min(counts) < 0.05 else
            f"{min(counts):.1f} to {max(counts):.1f}, depending on the recipe")
    text = (f"\\citet{{kingma2014}} report a test negative ELBO of about {shown} (their Figure~2, values read off "
            f"the figure), and none better at $d = {KINGMA_WELLING_FLAT_UP_TO}$: their curve flattens from about "
            f"$d = {max(KINGMA_WELLING)}$.")
    if ours:
        text += f" Ours flattens {listing(ours)}."
    return text + (" Their models saw binarized MNIST through a different architecture and budget, so only the "
                   "shape of the curves compares, not their level. "
                   f"\\citet{{burda2016}} find {low} to {high} of {units} latent units active in their one-layer VAE; "
                   f"our models at $d = {top}$ use {used}.")


def currency(all_params: Mapping[str, Mapping[str, Any]], binarize: str, code_md5: str, sweep: Sweep) -> str:
    """Whether the sweep's cells ran the code, params and data this report was built with: each recipe's settings
    against its block sweep-<name> of params.yaml (epochs against the sweep block's)."""
    stale = []
    for name, recipe in sweep.recipes.items():
        block = all_params.get(f"sweep-{name}")
        if block is None:
            stale.append(f"params.yaml, which has no block \\texttt{{sweep-{escape(name)}}} for "
                         f"{recipe_name(sweep, name)} any more")
            continue
        now = {**{key: block.get(key) for key in BLOCK_COLUMNS}, "epochs": all_params["sweep"]["epochs"],
               **{key: all_params["train"][key.removeprefix("train.")] for key in TRAIN_COLUMNS}}
        changed = [key for key, value in now.items() if str(value) != recipe[key]]
        if changed:
            stale.append(f"the settings of {recipe_name(sweep, name)} "
                         f"({listing([SETTING_WORDS.get(k, k) for k in changed])})")
    if binarize != sweep.binarize:
        stale.append(f"the binarization ({sweep.binarize} in the sweep, {binarize} here)")
    if set(sweep.runs["code_md5"]) != {code_md5}:
        stale.append("the code a cell runs (stage \\texttt{sweep} and the library it imports)")
    cells = f"The sweep's {len(sweep.cells)} cells"
    if not stale:
        return f"{cells} ran the code, settings and data this report was built with."
    return (f"{cells} are older than {listing(stale)}: their results are not those of the pipeline as it now "
            "stands, and \\texttt{dvc repro} retrains every cell that changed (\\texttt{dvc status} names them).")


def abstract(sweep: Sweep) -> str:
    """The sweep in one sentence, for the abstract: where the loss flattens and active units stop, said once for
    every group of recipes that agree."""
    top = sweep.dims[-1]
    outcomes = {recipe: (sweep.flattens_from(recipe), sweep.units_stop_growing(recipe))
                for recipe in sweep.recipes if sweep.judged(recipe)}
    if not outcomes:
        return ""
    parts = []
    for recipes, (flat_from, stop) in groups(outcomes):
        where = f"flattens from $d = {flat_from}$" if flat_from is not None else f"still falls at $d = {top}$"
        units = f"stop growing at $d = {stop}$" if stop is not None else f"still grow at $d = {top}$"
        parts.append(f"with {group_name(sweep, recipes)} the test loss {where} and active units {units}")
    return f"Over {dims_text(sweep.dims)}, {'; '.join(parts)}."
