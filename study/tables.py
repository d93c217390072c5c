"""The report's tables, rendered from metrics and params as LaTeX."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from study import decoder_findings
from study.latex import latex_table
from study.provenance import file_md5
from study.stats import Convergence, Spread
from study.sweep import Sweep, cb_column


def recipe_table(all_params: Mapping[str, Any], dims: list[int]) -> str:
    rows = []
    for d in dims:
        p = all_params[f"train-d{d}"]
        rows.append({"$d$": d, "layers": "--".join(map(str, (784, *p["hidden"], d))), "activation": p["activation"],
                     "decoder": p["decoder"], "epochs": p["epochs"], "batch": p["batch_size"], "learning rate": p["lr"],
                     "schedule": p["lr_schedule"], "KL warm-up": p["kl_warmup_epochs"], "seed": p["seed"]})
    return latex_table(pd.DataFrame(rows), {"learning rate": "g"})


def differences_table(recipes: Mapping[int, Mapping[str, Any]], reasons: Mapping[str, str]) -> str:
    """One row per setting whose value differs between the train blocks, with the measurement behind it (one
    row that says so when none differs)."""
    rows = [{"setting": key.replace("_", " "), **{f"$d = {d}$": str(recipe[key]) for d, recipe in recipes.items()},
             "why": why} for key, why in reasons.items()]
    frame = pd.DataFrame(rows or [{"setting": "none", **{f"$d = {d}$": "" for d in recipes},
                                   "why": "The main models' recipes are the same but for $d$."}])
    return latex_table(frame, align="l" * (len(recipes) + 1) + "p{0.5\\linewidth}", latex_columns=["why"])


def convergence_table(curves: Mapping[int, Convergence | None], epochs: Mapping[int, int]) -> str:
    """Per main model: its ``epochs``, the window judged, and the validation loss before, after and its fall
    (dashes for a run too short to judge)."""
    frame = pd.DataFrame([{"$d$": d, "epochs": epochs[d],
                           "last epochs": f"{c.epochs - c.window + 1}--{c.epochs}" if c else None,
                           "val.\\ loss before them": c.start if c else None,
                           "val.\\ loss at the end": c.end if c else None, "fall": c.fall if c else None}
                          for d, c in sorted(curves.items())])
    return latex_table(frame, {c: ".2f" for c in frame.columns[3:]}, align="rrrrrr")


def sweep_table(spread: Mapping[tuple[str, int], Spread], labels: Mapping[str, str]) -> str:
    """Test loss, mean ± standard deviation over seeds, for every $d$ (rows) under every recipe of ``labels``
    (recipe -> its name in words; the columns, in that order)."""
    frame = pd.DataFrame([{"$d$": d, **{label: spread[(name, d)].tex() for name, label in labels.items()}}
                          for d in sorted({d for name, d in spread if name in labels})])
    return latex_table(frame, align="r" * len(frame.columns), latex_columns=list(labels.values()))


def with_group_rows(table: str, labels: Sequence[str], columns: int) -> str:
    """``table`` (from :func:`latex_table`) with a row naming each group before its first row, spanning its
    ``columns`` columns; ``labels`` holds each body row's group, consecutive rows of one group together."""
    lines = table.splitlines()
    body = lines.index("\\midrule") + 1
    starts = [i for i, label in enumerate(labels) if i == 0 or label != labels[i - 1]]
    for i in reversed(starts):
        lines.insert(body + i, ("\\addlinespace\n" if i else "") +
                     f"\\multicolumn{{{columns}}}{{l}}{{\\emph{{{labels[i]}}}}} \\\\")
    return "\n".join(lines)


def steps_table(sweep: Sweep) -> str:
    """Per recipe (a row naming it, then one row per step), each step between consecutive dims of the sweep: how
    much the mean test loss and reconstruction term fell, how much the KL term and the active units rose, and
    twice the test loss's spread."""
    rows, labels = [], []
    for recipe in sweep.recipes:
        curves = {measure: sweep.curve(recipe, measure)
                  for measure in ("test_loss", "test_recon", "test_kl", "active_units")}
        loss = curves["test_loss"]
        dims = sorted(loss)
        for a, b in itertools.pairwise(dims):
            noise = 2 * max(loss[a].std, loss[b].std)  # NaN, shown as a dash, with one seed
            labels.append(sweep.labels[recipe])
            rows.append({"$d$": f"{a} $\\to$ {b}",
                         "test loss falls by": loss[a].mean - loss[b].mean, "twice the spread": noise,
                         "recon.\\ falls by": curves["test_recon"][a].mean - curves["test_recon"][b].mean,
                         "KL rises by": curves["test_kl"][b].mean - curves["test_kl"][a].mean,
                         "active units gained": curves["active_units"][b].mean - curves["active_units"][a].mean})
    columns = ["$d$", "test loss falls by", "twice the spread", "recon.\\ falls by", "KL rises by",
               "active units gained"]
    # A sweep of one d has no step: one row of dashes says so rather than a table without rows.
    frame = pd.DataFrame(rows or [{"$d$": "one $d$: no step"}], columns=columns)
    table = latex_table(frame, {c: ".2f" for c in columns[1:-1]} | {"active units gained": ".1f"},
                        align="lrrrrr", latex_columns=["$d$"])
    return with_group_rows(table, labels, len(columns)) if rows else table


def results_table(train: Mapping[int, Mapping[str, Any]]) -> str:
    columns = {"best_val_loss": "val.\\ loss", "test_loss": "test loss", "test_recon": "test recon.",
               "test_kl": "test KL", "test_nll_iw": "test $-\\log p(x)$, IW", "active_units": "active units",
               "best_epoch": "best epoch", "train_seconds": "train s"}
    frame = pd.DataFrame.from_dict(train, orient="index")[list(columns)].rename(columns=columns)
    frame.insert(0, "$d$", list(train))
    formats = {h: ".2f" for k, h in columns.items() if k not in ("active_units", "best_epoch", "train_seconds")}
    return latex_table(frame, formats | {"train s": ".0f"})


def baseline_table(train: Mapping[int, Mapping[str, Any]], baseline: Mapping[str, Any]) -> str:
    rows = [{"$d$": d, "epochs": baseline[f"d{d}"]["epochs_run"], "baseline test loss": baseline[f"d{d}"]["test_loss"],
             "our test loss": train[d]["test_loss"], "gain": baseline[f"d{d}"]["test_loss"] - train[d]["test_loss"]}
            for d in train if f"d{d}" in baseline]
    return latex_table(pd.DataFrame(rows), {"baseline test loss": ".2f", "our test loss": ".2f", "gain": ".2f"})


def embed_table(embed: Mapping[str, Any], dims: list[int], k: int) -> str:
    frame = pd.DataFrame([{"$d$": d, f"{k}-NN accuracy": embed[f"d{d}"]["knn_accuracy"],
                           "silhouette": embed[f"d{d}"]["silhouette"],
                           f"{k}-NN accuracy in the 2-D view": embed[f"d{d}"]["view_knn_accuracy"],
                           "digit kept by reconstructions": embed[f"d{d}"]["recon_digit_kept"]} for d in dims])
    return latex_table(frame, {c: ".3f" for c in frame.columns[1:]})


def reproducibility_table(runs: Mapping[str, Mapping[str, Any]], models: Mapping[str, Path],
                          seconds: Mapping[str, float]) -> str:
    """One row per stage: its wall time, and for a stage that trains (a key of ``runs``, its metrics) the
    precision and device it trained on, and for one that writes a model (a key of ``models``) the model's md5."""
    rows = []
    for stage, s in seconds.items():
        row = {"stage": stage, "wall s": s, "precision": "", "device": "", "model md5": ""}
        if stage in runs:
            native = "native bf16" if runs[stage]["native_bf16"] else "no native bf16"
            row |= {"precision": runs[stage]["precision"], "device": f"{runs[stage]['device']} ({native})"}
        if stage in models:
            row["model md5"] = file_md5(models[stage])
        rows.append(row)
    return latex_table(pd.DataFrame(rows), {"wall s": ".0f"})


def params_table(all_params: Mapping[str, Any]) -> str:
    """One row per block, its settings in a wrapped paragraph: a row per key no longer fits on a page."""
    frame = pd.DataFrame({"block": list(all_params),
                          "settings": ["; ".join(f"{key} {value}" for key, value in block.items())
                                       for block in all_params.values()]})
    return latex_table(frame, align="lp{0.78\\linewidth}")


def ladder_table(likelihood: Mapping[str, Any]) -> str:
    rows = []
    for key in sorted((k for k in likelihood if k[1:].isdigit()), key=lambda k: int(k[1:])):
        d, ladder = likelihood[key], likelihood[key]["ladder"]
        ks = sorted(int(name[3:]) for name in ladder if name.startswith("iw_"))
        rows.append({"$d$": int(key[1:]), "images": ladder["images"],
                     **{f"$k = {k}$": ladder[f"iw_{k}"] for k in ks}, "exact": ladder["exact"],
                     "exact, test set": d["test_nll_exact"], "halved spacing": d["halved_spacing_change"]})
    frame = pd.DataFrame(rows)
    return latex_table(frame, {c: ".2f" for c in frame.columns[2:-1]} | {"halved spacing": ".4f"})


def baseline_recipe(p: Mapping[str, Any]) -> str:
    widths = "--".join(map(str, (784, *p["hidden"])))
    return (f"an MLP {widths}--$d$ with ReLU, Adam at a constant rate of {p['lr']:g}, "
            f"batches of {p['batch_size']}")



def _rows_table(rows: list[dict[str, str]], headings: Mapping[str, str], align: str, empty: str) -> str:
    """A table of ready LaTeX cells (``rows``: key -> cell), its columns ``headings`` (key -> heading, in order);
    rows with a "recipe" key but no such heading come under a row naming their recipe. One row that says ``empty``
    where there are no rows."""
    if not rows:  # the headings, and one row across them that says why there is nothing under them
        frame = pd.DataFrame([dict.fromkeys(headings.values(), "")])
        lines = latex_table(frame, align=align, latex_columns=list(headings.values())).splitlines()
        body = lines.index("\\midrule") + 1
        lines[body] = f"\\multicolumn{{{len(headings)}}}{{l}}{{{empty}}} \\\\"
        return "\n".join(lines)
    frame = pd.DataFrame(rows, columns=list(headings)).rename(columns=headings)
    table = latex_table(frame.fillna(""), align=align, latex_columns=list(headings.values()))
    if "recipe" in rows[0] and "recipe" not in headings:
        table = with_group_rows(table, [row["recipe"] for row in rows], len(headings))
    return table


def decoders_table(sweep: Sweep) -> str:
    """Per recipe and d, the measures every decoder shares (Figure sweep-decoders) and active units, mean ±
    standard deviation over seeds."""
    clip = decoder_findings.clip_tex(sweep.cb_clips[0])
    headings = {"d": "$d$", cb_column(sweep.cb_clips[0]): f"$-$ELBO as a density, $\\lambda \\ge$ {clip}",
                "pixel_mse": "pixel MSE", "recon_digit_kept": "digit kept", "samples_named": "samples named",
                "knn_accuracy": "$k$-NN acc.", "active_units": "active units"}
    return _rows_table(decoder_findings.decoders_rows(sweep), headings, "rrrrrrr", "")


def clips_table(sweep: Sweep) -> str:
    """At the largest d, each recipe read as a continuous Bernoulli with lambda clipped at each clip (rows)."""
    headings = {"clip": "$\\lambda$ clipped at", **{label: label for label in sweep.labels.values()}}
    return _rows_table(decoder_findings.clip_rows(sweep), headings, "l" + "r" * len(sweep.labels), "")


def own_loss_table(sweep: Sweep) -> str:
    """The continuous-Bernoulli recipes' own loss per d, in nats per image and bits per dimension."""
    cbs = decoder_findings.cb_recipes(sweep)
    headings = {"d": "$d$",
                "test_loss": "$-$ELBO, nats", "bpd_loss": "$-$ELBO, bits/dim.",
                "test_nll_iw": "$-\\log p(x)$, IW, nats", "bpd_iw": "$-\\log p(x)$, IW, bits/dim."}
    rows = decoder_findings.own_loss_rows(sweep)
    if len(cbs) < 2:  # the caption names the one recipe
        rows = [{key: row[key] for key in headings} for row in rows]
    return _rows_table(rows, headings, "rrrrr",
                       "The sweep has no recipe with the continuous-Bernoulli decoder.")


def exact_sweep_table(sweep: Sweep) -> str:
    """Per recipe at d <= 2: the exact -log p(x) beside the importance-weighted estimate on the same images."""
    headings = {"d": "$d$", "images": "images", "exact_nll": "exact $-\\log p(x)$",
                "exact_iw_nll": "IW estimate", "exact_gap": "IW $-$ exact", "halved": "halved spacing"}
    return _rows_table(decoder_findings.exact_rows(sweep), headings, "rrrrrr",
                       "The sweep has no $d \\le 2$: quadrature over $z$ is out of reach.")
