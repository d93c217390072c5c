"""The report's tables, rendered from metrics and params as LaTeX."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from study.latex import latex_table
from study.provenance import file_md5
from study.stats import Convergence, Spread
from study.sweep import Sweep


def recipe_table(all_params: Mapping[str, Any], dims: list[int]) -> str:
    rows = []
    for d in dims:
        p = all_params[f"train-d{d}"]
        rows.append({"$d$": d, "layers": "--".join(map(str, (784, *p["hidden"], d))), "activation": p["activation"],
                     "epochs": p["epochs"], "batch": p["batch_size"], "learning rate": p["lr"],
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


def sweep_table(spread: Mapping[tuple[str, int], Spread], recipes: Sequence[str]) -> str:
    """Test loss, mean ± standard deviation over seeds, for every $d$ (rows) under every recipe (columns)."""
    columns = {name: f"recipe of \\texttt{{{name}}}" for name in recipes}
    frame = pd.DataFrame([{"$d$": d, **{heading: spread[(name, d)].tex() for name, heading in columns.items()}}
                          for d in sorted({d for _, d in spread})])
    return latex_table(frame, align="r" * len(frame.columns), latex_columns=list(columns.values()))


def steps_table(sweep: Sweep) -> str:
    """Per recipe, each step between consecutive dims of the sweep: how much the mean test loss and
    reconstruction term fell, how much the KL term and the active units rose, and twice the test loss's spread."""
    rows = []
    for recipe in sweep.recipes:
        curves = {measure: sweep.curve(recipe, measure)
                  for measure in ("test_loss", "test_recon", "test_kl", "active_units")}
        loss = curves["test_loss"]
        dims = sorted(loss)
        for a, b in zip(dims, dims[1:]):
            noise = 2 * max(loss[a].std, loss[b].std)  # NaN, shown as a dash, with one seed
            rows.append({"recipe": f"\\texttt{{{recipe}}}", "$d$": f"{a} $\\to$ {b}",
                         "test loss falls by": loss[a].mean - loss[b].mean, "twice the spread": noise,
                         "recon.\\ falls by": curves["test_recon"][a].mean - curves["test_recon"][b].mean,
                         "KL rises by": curves["test_kl"][b].mean - curves["test_kl"][a].mean,
                         "active units gained": curves["active_units"][b].mean - curves["active_units"][a].mean})
    columns = ["recipe", "$d$", "test loss falls by", "twice the spread", "recon.\\ falls by", "KL rises by",
               "active units gained"]
    # A sweep of one d has no step: one row of dashes says so rather than a table without rows.
    frame = pd.DataFrame(rows or [{"recipe": "one $d$", "$d$": "no step"}], columns=columns)
    return latex_table(frame, {c: ".2f" for c in columns[2:-1]} | {"active units gained": ".1f"},
                       align="lrrrrrr", latex_columns=["recipe", "$d$"])


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

