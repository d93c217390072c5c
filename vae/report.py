"""The LaTeX report: its tables rendered from metrics and params (with pandas), ``results.tex``, and the
latexmk build."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from vae.errors import PipelineError
from vae.io import atomic_path, write_text
from vae.provenance import file_md5
from vae.stats import Convergence, Spread

TEX_INSTALL_HINT = (
    "install TeX: on Debian/Ubuntu 'apt-get install texlive-latex-recommended latexmk' (as root), "
    "on macOS 'brew install --cask mactex-no-gui', or run 'make setup' as root"
)


class ReportError(PipelineError):
    """LaTeX is missing or the document did not compile."""


def escape(text: str) -> str:
    """Escape LaTeX's special characters in plain text."""
    replacements = {
        "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
        "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    }
    return "".join(replacements.get(c, c) for c in text)


def latex_table(frame: pd.DataFrame, formats: Mapping[str, str] | None = None, align: str | None = None,
                latex_columns: Sequence[str] = ()) -> str:
    """A booktabs tabular of ``frame``: headings as given (they may hold LaTeX), string cells escaped but
    those of ``latex_columns``, which are LaTeX already, numbers formatted by ``formats`` (column -> format
    spec), numbers right-aligned and text left."""
    formatters = {column: f"{{:{spec}}}" for column, spec in (formats or {}).items()}
    align = align or "".join("r" if pd.api.types.is_numeric_dtype(frame[c]) else "l" for c in frame.columns)
    styler = frame.style.hide(axis="index").format(formatters, escape="latex")
    if latex_columns:
        styler = styler.format(str, subset=list(latex_columns))
    return styler.to_latex(hrules=True, column_format=align).strip()


def recipe_table(all_params: Mapping[str, Any], dims: list[int]) -> str:
    rows = []
    for d in dims:
        p = all_params[f"train-d{d}"]
        rows.append({"$d$": d, "layers": "--".join(map(str, (784, *p["hidden"], d))), "activation": p["activation"],
                     "epochs": p["epochs"], "batch": p["batch_size"], "learning rate": p["lr"],
                     "schedule": p["lr_schedule"], "KL warm-up": p["kl_warmup_epochs"], "seed": p["seed"]})
    return latex_table(pd.DataFrame(rows), {"learning rate": "g"})


def differences_table(recipes: Mapping[int, Mapping[str, Any]], reasons: Mapping[str, str]) -> str:
    """One row per setting whose value differs between the train blocks, with the measurement behind it."""
    frame = pd.DataFrame([{"setting": key.replace("_", " "),
                           **{f"$d = {d}$": str(recipe[key]) for d, recipe in recipes.items()}, "why": why}
                          for key, why in reasons.items()])
    return latex_table(frame, align="l" * (len(recipes) + 1) + "p{0.5\\linewidth}", latex_columns=["why"])


def convergence_table(curves: Mapping[int, Convergence]) -> str:
    """Per main model: its epochs, the window judged, and the validation loss before, after and its fall."""
    frame = pd.DataFrame([{"$d$": d, "epochs": c.epochs,
                           "last epochs": f"{c.epochs - c.window + 1}--{c.epochs}",
                           "val.\\ loss before them": c.start, "val.\\ loss at the end": c.end, "fall": c.fall}
                          for d, c in sorted(curves.items())])
    return latex_table(frame, {c: ".2f" for c in frame.columns[3:]}, align="rrrrrr")


def sweep_table(spread: Mapping[tuple[str, int], Spread], recipes: Sequence[str]) -> str:
    """Test loss, mean ± standard deviation over seeds, for every $d$ (rows) under every recipe (columns)."""
    columns = {name: f"recipe of \\texttt{{{name}}}" for name in recipes}
    frame = pd.DataFrame([{"$d$": d, **{heading: spread[(name, d)].tex() for name, heading in columns.items()}}
                          for d in sorted({d for _, d in spread})])
    return latex_table(frame, align="r" * len(frame.columns), latex_columns=list(columns.values()))


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
    flat = pd.json_normalize(all_params, sep=".").iloc[0]
    frame = pd.DataFrame({"key": flat.index, "value": [str(v) for v in flat.values]})
    return latex_table(frame, align="ll")


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


def macro_name(name: str) -> str:
    """TeX macro names are letters only."""
    if not re.fullmatch(r"[A-Za-z]+", name):
        raise ValueError(f"TeX macro names must be letters only, got {name!r}")
    return name


def render_results(macros: Mapping[str, str]) -> str:
    """``results.tex``: one ``\\newcommand`` per generated piece, placed by the hand-written template."""
    header = "% Generated by `python -m stages.report`; do not edit. The layout is in report.tex.\n"
    return header + "".join(f"\\newcommand{{\\{macro_name(k)}}}{{%\n{v}%\n}}\n" for k, v in macros.items())


def latex_errors(log_text: str, context: int = 3) -> str:
    """The lines of a LaTeX log that say what went wrong: each error and the lines after it.

    With ``-file-line-error`` errors read ``./file.tex:12: message``; without it they start with ``!``.
    """
    lines = log_text.splitlines()
    picked: list[str] = []
    for i, line in enumerate(lines):
        if line.startswith("!") or re.match(r"\S+\.tex:\d+: ", line):
            picked += lines[i : i + context + 1] + ["..."]
    return "\n".join(picked[:40]) if picked else "\n".join(lines[-20:])


def compile_pdf(tex_file: Path, pdf_file: Path, timeout_s: int = 300) -> None:
    """Build ``tex_file`` with latexmk in a scratch directory and move the PDF to ``pdf_file``.

    Auxiliary files stay out of the repo, and a failed build leaves any previous PDF untouched.
    """
    latexmk = shutil.which("latexmk")
    if latexmk is None or shutil.which("pdflatex") is None:
        raise ReportError(f"latexmk and pdflatex are needed to build {pdf_file} but were not found; {TEX_INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="report-build-") as build_dir:
        cmd = [latexmk, "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error",
               f"-outdir={build_dir}", tex_file.name]
        try:
            done = subprocess.run(cmd, cwd=tex_file.parent, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise ReportError(f"latexmk did not finish building {tex_file} in {timeout_s} s") from None
        built = Path(build_dir) / f"{tex_file.stem}.pdf"
        if done.returncode != 0 or not built.is_file():
            log_file = Path(build_dir) / f"{tex_file.stem}.log"
            log_text = log_file.read_text(errors="replace") if log_file.is_file() else done.stdout + done.stderr
            raise ReportError(f"LaTeX failed to build {tex_file}; from its log:\n{latex_errors(log_text)}")
        with atomic_path(pdf_file) as tmp:
            shutil.copyfile(built, tmp)


def write_results(path: Path, macros: Mapping[str, str]) -> None:
    write_text(path, render_results(macros))
