"""Benchmark: the project's training loop against pytorch/examples' DataLoader loop, the default model's
share of the machine's matmul peak, a sweep cell's seeds trained side by side against one after another, t-SNE
implementations, and every pipeline stage timed.

    python -m bench                    # everything, including a forced rerun of every pipeline stage
    python -m bench --skip-pipeline    # the loops only (a few minutes)

Writes a Markdown table to --out and, with --doc, between the bench markers of that file (docs/speed.md).
"""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import platform
import re
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from bench import loops, pipeline, reference
from stages import embed, params, sweep_summary, train
from stages import sweep as cell
from study import embedding
from study.provenance import git_commit
from vae import data, hardware, model
from vae.evaluate import latent_means, split_tensors, to_float_images
from vae.model import ModelConfig
from vae.pixels import evaluation_images
from vae.train import PRECISION_DTYPES, PRECISIONS, TrainConfig

log = logging.getLogger("bench")

# docs/speed.md keeps one table per machine kind, each between its own pair of markers.
BEGIN, END = "<!-- bench:begin {kind} -->", "<!-- bench:end {kind} -->"
D64_IMAGES = 20_000  # per timed pass of the d=64 model: a third of an epoch is enough for a steady rate
REFERENCE_MODEL = ModelConfig(latent_dim=20, hidden=(400,))  # pytorch/examples' 784-400-20
# Whose uncommitted changes the table flags: the code, not the table this benchmark writes itself.
MEASURED_CODE = ("bench/*.py", "stages", "vae", "dvc.yaml", "params.yaml")
SWEEP_RECIPE = "elu"  # whose seeds the side-by-side rows train (at d = 64, the sweep's costliest cell)
CB_RECIPE = "elu-cb"  # whose loss the continuous-Bernoulli lever times


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str]] = []

    def add(self, measure: str, value: str, target: str = "") -> None:
        log.info("%s: %s %s", measure, value, target)
        self.rows.append((measure, value, target))

    def markdown(self) -> str:
        return pd.DataFrame(self.rows, columns=["measure", "value", "target"]).to_markdown(index=False)


def machine(cpu: hardware.Hardware, precision_setting: str) -> str:
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    flags = ", ".join(f"`{f}`" for f in cpu.bf16_flags) or f"none of {', '.join(hardware.BF16_CPU_FLAGS)}"
    return (f"{cpu.name}, {os.cpu_count()} cores, {memory_gib:.0f} GiB, {torch.get_num_threads()} torch threads "
            f"(the loops run on the CPU); PyTorch {torch.__version__}, Python {platform.python_version()}. "
            f"Native bf16 flags: {flags}, so `train.precision: {precision_setting}` trains in "
            f"{hardware.resolve_precision(precision_setting, cpu)}")


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


# The loops compile the same loss function for a dozen models side by side; past 8 graphs per function
# (dynamo's default limit) the rest would fall back to eager and be timed as if compiled.
@torch._dynamo.config.patch(recompile_limit=64)
def bench_loops(table: Table, raw_dir: Path, epochs: int, train_params: dict, d64: dict, cb_recipe: dict,
                precision: str) -> None:
    # (b) and its levers run as the pipeline trains: train.compile from params.yaml, and the precision
    # train.precision resolves to on this machine.
    config = TrainConfig(epochs=epochs + 1, batch_size=128, lr=1e-3, seed=1, compile=train_params["compile"],
                         precision=precision)
    with tempfile.TemporaryDirectory(prefix="bench-mnist-") as root:
        dataset = reference.torchvision_mnist(raw_dir, Path(root))
        x = to_float_images(dataset.data)  # the same 60,000 images, held as one tensor
        runs = {
            "a": loops.reference_run(dataset),
            "b": loops.project_run(x, REFERENCE_MODEL, config),
            **{name: loops.project_run(x, REFERENCE_MODEL, c) for name, c in switched_settings(config).items()},
            "the loss through `F.binary_cross_entropy_with_logits` (log1p)":
                loops.project_run(x, REFERENCE_MODEL, config, loops.through_log1p),
            "a `loss.item()` sync every step": loops.project_run(x, REFERENCE_MODEL, config, loops.synced),
            "1 thread": loops.on_threads(1, loops.project_run(x, REFERENCE_MODEL, config)),
            "the step as it was before (autocast, torch's fused Adam)": loops.before_run(x, REFERENCE_MODEL, config),
        }
        seconds = loops.interleaved_seconds(runs, epochs)
    ref, ours = seconds.pop("a"), seconds.pop("b")
    table.add("(a) pytorch/examples VAE 784-400-20: torchvision MNIST + `ToTensor` through a `DataLoader`",
              f"{ref:.2f} s/epoch")
    table.add(f"(b) the project's loop, same model and data ({settings(config)})", f"{ours:.2f} s/epoch")
    table.add("speed-up of (b) over (a)", f"{ref / ours:.1f}x", f">= 3x: {verdict(ref / ours >= 3)}")
    for name, lever in seconds.items():
        table.add(f"lever: (b) with {name}", f"{lever:.2f} s/epoch ({lever / ours:.2f}x of (b))")
    naive, batched = loops.evaluation_seconds(model.VAE(REFERENCE_MODEL), x[:10_000])
    table.add("lever: ELBO of 10,000 images, batches of 128 with autograd vs batches of 2,000 in `inference_mode`",
              f"{naive:.2f} s vs {batched:.2f} s")

    peaks = {precision: loops.matmul_gflops(PRECISION_DTYPES[precision]) for precision in PRECISIONS}
    for precision, peak in peaks.items():
        table.add(f"{precision} matmul peak (`torch.matmul`, 4096 x 4096)", f"{peak:.0f} GFLOP/s")
    d64_arch = ModelConfig(64, tuple(d64["hidden"]), d64["activation"], d64["decoder"])
    d64_train = replace(config, batch_size=d64["batch_size"])
    x64 = x[:D64_IMAGES]
    variants = {"default": d64_train, **switched_settings(d64_train)}
    runs = {name: loops.project_run(x64, d64_arch, c) for name, c in variants.items()}
    runs["the step as it was before (autocast, torch's fused Adam)"] = loops.before_run(x64, d64_arch, d64_train)
    if d64_arch.activation == "elu":
        runs["torch's `nn.ELU` (expm1)"] = loops.project_run(x64, d64_arch, d64_train, torch_elu=True)
    rates = {name: len(x64) / s for name, s in loops.interleaved_seconds(runs, epochs).items()}
    widths = "-".join(map(str, (data.N_PIXELS, *d64_arch.hidden, 64)))
    name = f"default d=64 model ({widths}, {d64_arch.activation}, batch {d64['batch_size']})"
    rate = rates.pop("default")
    gflops = loops.train_flops_per_image(model.VAE(d64_arch)) * rate / 1e9
    table.add(f"{name}: training throughput ({settings(config)}, as the pipeline trains it)", f"{rate:,.0f} images/s")
    table.add(f"default d=64 model: achieved rate (linear layers) / {config.precision} matmul peak",
              f"{gflops:.0f} GFLOP/s = {gflops / peaks[config.precision]:.0%}")
    for lever, lever_rate in rates.items():
        table.add(f"lever: default d=64 model with {lever}", f"{lever_rate:,.0f} images/s")
    bench_continuous_bernoulli(table, x64, cb_recipe, d64_train, epochs)


def bench_continuous_bernoulli(table: Table, x: torch.Tensor, recipe: dict, config: TrainConfig, epochs: int) -> None:
    """The continuous-Bernoulli recipe's d = 64 step, its loss from vae.decoders against torch's distribution."""
    arch = train.model_config(64, recipe)
    deq = replace(config, batch_size=recipe["batch_size"], pixels="dequantized")
    runs = {"ours": loops.project_run(x, arch, deq),
            "torch": loops.project_run(x, arch, deq, loops.through_torch_continuous_bernoulli)}
    rates = {name: len(x) / s for name, s in loops.interleaved_seconds(runs, epochs).items()}
    table.add("continuous-Bernoulli recipe at d=64: training throughput", f"{rates['ours']:,.0f} images/s")
    table.add("lever: its loss through `torch.distributions.ContinuousBernoulli` (log1p, normaliser in lambda)",
              f"{rates['torch']:,.0f} images/s")


def bench_sweep_cell(table: Table, epochs: int, shared: dict, recipe: dict, seeds: list[int], precision: str) -> None:
    """A sweep cell's seeds at d = 64 trained side by side (as the cells train them) against the same models one
    after another on every thread with the step as it was before (as the cells trained them before): the whole
    training of each, start, compilation and validation included, on the prepared training and validation set."""
    splits = data.load_prepared(Path("data/prepared/mnist.npz"))
    x = split_tensors({name: splits[name] for name in ("train", "val")}, torch.device("cpu"))
    arch = train.model_config(64, recipe)
    configs = [train.train_config(recipe, epochs=epochs, seed=s, shared=shared, precision=precision, binarize="none")
               for s in seeds]
    val = evaluation_images(x["val"], configs[0].pixels)
    images = len(configs) * epochs * len(x["train"])
    after = loops.seeds_side_by_side(x["train"], val, arch, configs)
    before = loops.seeds_one_after_another(x["train"], val, arch, configs)
    what = f"{len(configs)} seeds of the sweep's {SWEEP_RECIPE} recipe at d=64, {epochs} epochs each"
    table.add(f"{what}, one after another, every thread, the step as before: per-model throughput",
              f"{images / before:,.0f} images/s ({before:.0f} s)")
    table.add(f"{what}, side by side, {loops.workers_for(len(configs))} workers of one thread: per-model throughput",
              f"{images / after:,.0f} images/s ({after:.0f} s)")
    table.add("speed-up of the side-by-side cell", f"{before / after:.2f}x",
              f">= 1.5x: {verdict(before / after >= 1.5)}")


def switched_settings(config: TrainConfig) -> dict[str, TrainConfig]:
    """``config`` with each pipeline setting switched, then both, named as the lever rows name them: on a
    machine whose default precision is the other one, the last row is what the compile lever is there."""
    other_precision = next(p for p in PRECISIONS if p != config.precision)
    compile_switched = f"`torch.compile` {on_off(not config.compile)}"
    return {compile_switched: replace(config, compile=not config.compile),
            f"precision {other_precision}": replace(config, precision=other_precision),
            f"precision {other_precision} and {compile_switched}":
                replace(config, precision=other_precision, compile=not config.compile)}


def on_off(flag: bool) -> str:
    """'on' or 'off', as the table words a setting."""
    return "on" if flag else "off"


def settings(config: TrainConfig) -> str:
    """The settings of ``config`` that the loop rows vary."""
    return f"`torch.compile` {on_off(config.compile)}, precision {config.precision}"


def bench_tsne(table: Table, prepared: Path, model_path: Path, embed: dict) -> None:
    if not (prepared.is_file() and model_path.is_file()):
        table.add("t-SNE comparison", f"skipped: needs {prepared} and {model_path} (run the pipeline)")
        return
    vae, _ = model.load(model_path)
    splits = data.load_prepared(prepared)
    test_means = latent_means(vae, split_tensors({"test": splits["test"]}, torch.device("cpu"))["test"]).numpy()
    labels = splits["test"].labels
    for method in embedding.TSNE_METHODS:
        start = time.perf_counter()
        view = embedding.tsne(test_means, perplexity=embed["tsne_perplexity"], seed=embed["seed"], method=method)
        seconds = time.perf_counter() - start
        accuracy = embedding.leave_one_out_knn_accuracy(np.asarray(view), labels, embed["knn_k"])
        table.add(f"t-SNE of the {len(labels):,} d=64 test means, {method}",
                  f"{seconds:.1f} s, {embed['knn_k']}-NN accuracy in 2-D {accuracy:.3f}")


def bench_pipeline(table: Table, repo: Path) -> None:
    runs = pipeline.time_stages(repo)
    for run in runs:
        target = ""
        if run.stage == "embed":
            target = f"< 60 s: {verdict(run.seconds < 60)}"
        table.add(f"stage `{run.stage}`", f"{run.seconds:.0f} s, peak RSS {run.peak_rss_mb:,.0f} MB", target)
    total = sum(r.seconds for r in runs if "@" not in r.stage)
    table.add("whole pipeline but the sweep's cells (sum of the stages)", f"{total / 60:.1f} min",
              f"< 15 min: {verdict(total < 900)}")
    runs_ = pd.read_csv(repo / "results/sweep.csv")
    cells = runs_.drop_duplicates(["recipe", "latent_dim"])
    table.add(f"the sweep's {len(cells)} cells ({len(runs_)} models), as they ran (sum of their `stage_seconds` in "
              "results/sweep.csv)",
              f"{cells['stage_seconds'].sum() / 60:.0f} min, largest peak RSS {cells['peak_rss_mb'].max():,.0f} MB")
    for recipe, group in cells.groupby("recipe", sort=False):
        table.add(f"the sweep's cells of recipe {recipe}", f"{group['stage_seconds'].sum() / 60:.0f} min")
    worst = max(runs, key=lambda r: r.peak_rss_mb)
    table.add("largest peak RSS of any stage", f"{worst.peak_rss_mb:,.0f} MB (`{worst.stage}`)",
              f"< 2 GB: {verdict(worst.peak_rss_mb < 2048)}")
    noop = pipeline.noop_repro_seconds(repo)
    table.add("`dvc repro` with nothing to do", f"{noop:.1f} s", f"< 5 s: {verdict(noop < 5)}")


def machine_kind(cpu_name: str) -> str:
    """A marker-safe key for a CPU model: 'AMD EPYC 9R14' -> 'amd-epyc-9r14'."""
    return "-".join(re.findall(r"[a-z0-9]+", cpu_name.lower().replace("(r)", "").replace("(tm)", ""))) or "unknown"


def splice(doc: Path, text: str, kind: str) -> None:
    """Put ``text`` between the markers of ``kind``: in place of that kind's table, or after the last
    table of another kind when this kind has none yet."""
    content = doc.read_text()
    begin, end = BEGIN.format(kind=kind), END.format(kind=kind)
    block = f"{begin}\n{text}\n{end}"
    if begin in content and end in content:
        head, rest = content.split(begin, 1)
        doc.write_text(f"{head}{block}{rest.split(end, 1)[1]}")
        return
    last_end = list(re.finditer(END.format(kind=r"[a-z0-9-]+"), content))
    if not last_end:
        raise SystemExit(f"{doc} has no {BEGIN.format(kind='<kind>')} ... {END.format(kind='<kind>')} markers "
                         "to put the table between")
    cut = last_end[-1].end()
    doc.write_text(f"{content[:cut]}\n\n{block}{content[cut:]}")


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=3, help="timed passes per loop, after one untimed (default 3)")
    ap.add_argument("--skip-pipeline", action="store_true", help="do not rerun and time the pipeline stages")
    ap.add_argument("--cell-epochs", type=int,
                    help="epochs of each seed in the side-by-side rows, start and compilation included (default: "
                         "the sweep's budget, sweep.epochs: a cell's whole training, about 9 minutes for both rows)")
    ap.add_argument("--out", type=Path, default=Path("bench/results.md"), help="Markdown table (default %(default)s)")
    ap.add_argument("--doc", type=Path, help="also put the table between the bench markers of this file")
    args = ap.parse_args()
    for name in ("epochs", "cell_epochs"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be an integer >= 1, got {getattr(args, name)}")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s bench: %(message)s",
                        datefmt="%H:%M:%S")
    all_params = params.load(Path("params.yaml"), {**train.schema(64), **embed.SCHEMA, **sweep_summary.SCHEMA,
                                                   **cell.schema(SWEEP_RECIPE), f"sweep-{CB_RECIPE}": train.RECIPE})
    cpu = hardware.describe(torch.device("cpu"))
    precision = hardware.resolve_precision(all_params["train"]["precision"], cpu)
    measured_at = git_commit(MEASURED_CODE)  # before the pipeline's rerun rewrites its outputs
    log.info("%s", machine(cpu, all_params["train"]["precision"]))
    table = Table()
    if not args.skip_pipeline:
        bench_pipeline(table, Path.cwd())
    bench_loops(table, Path("data/mnist"), args.epochs, all_params["train"], all_params["train-d64"],
                all_params[f"sweep-{CB_RECIPE}"], precision)
    bench_sweep_cell(table, args.cell_epochs or all_params["sweep"]["epochs"], all_params["train"],
                     all_params[f"sweep-{SWEEP_RECIPE}"],
                     all_params["sweep"]["seeds"], precision)
    bench_tsne(table, Path("data/prepared/mnist.npz"), Path("models/vae-d64.pt"), all_params["embed"])
    passes = f"{args.epochs} pass{'es' if args.epochs > 1 else ''}"
    text = (f"Measured by `python -m bench` on {datetime.date.today().isoformat()} at commit `{measured_at}`: "
            f"{machine(cpu, all_params['train']['precision'])}. "
            f"Loop times are medians of {passes} (epochs of 60,000 images; for the d=64 models, of {D64_IMAGES:,}) "
            f"after an untimed one, the loops of a group taking turns pass by pass; the side-by-side rows, stages and "
            f"t-SNE ran once."
            f"\n\n{table.markdown()}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    if args.doc:
        splice(args.doc, text, machine_kind(cpu.name))
    print(text)


if __name__ == "__main__":
    main()
