"""Train VAEs under variations of one recipe and print what each bought: the levers table of docs/study.md.

    python scripts/levers.py                 # every variation below (about 45 minutes on 2 cores)
    python scripts/levers.py cosine-30 bs64  # some of them

Each variation overrides a fixed base recipe (the pipeline's d=64 settings before this study: ReLU,
batches of 128, Adam at a constant 1e-3, 30 epochs, seed 64), so that rows stay comparable whatever
params.yaml holds now; data and evaluation are the pipeline's. Training is eager and fp32 unless a
variation says otherwise.
Rows are appended to --out as JSON lines, so runs can be split up.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vae import data  # noqa: E402
from vae.evaluate import elbo_terms, split_tensors  # noqa: E402
from vae.model import ModelConfig  # noqa: E402
from vae.train import TrainConfig, fit  # noqa: E402

BASE: dict[str, Any] = {"latent_dim": 64, "hidden": [512, 256], "activation": "relu", "epochs": 30,
                        "batch_size": 128, "lr": 0.001,
                        "lr_schedule": "constant", "kl_warmup_epochs": 0, "seed": 64, "compile": False,
                        "precision": "fp32"}
VARIATIONS: dict[str, dict[str, Any]] = {
    "relu-constant-30": {"activation": "relu", "epochs": 30, "lr_schedule": "constant"},
    "relu-cosine-30": {"activation": "relu", "epochs": 30, "lr_schedule": "cosine"},
    "relu-wide-constant-30": {"activation": "relu", "epochs": 30, "lr_schedule": "constant", "hidden": [1024, 512]},
    "relu-cosine-15": {"activation": "relu", "epochs": 15, "lr_schedule": "cosine"},
    "silu-cosine-15": {"activation": "silu", "epochs": 15, "lr_schedule": "cosine"},
    "elu-cosine-15": {"activation": "elu", "epochs": 15, "lr_schedule": "cosine"},
    "elu-bs64-cosine-15": {"activation": "elu", "epochs": 15, "lr_schedule": "cosine", "batch_size": 64},
    "relu-lr2e-3-cosine-15": {"activation": "relu", "epochs": 15, "lr_schedule": "cosine", "lr": 0.002},
    "relu-bs64-cosine-15": {"activation": "relu", "epochs": 15, "lr_schedule": "cosine", "batch_size": 64},
    "relu-bs256-lr2e-3-cosine-15": {"activation": "relu", "epochs": 15, "lr_schedule": "cosine", "batch_size": 256,
                                    "lr": 0.002},
    "relu-warmup10-cosine-30": {"activation": "relu", "epochs": 30, "lr_schedule": "cosine", "kl_warmup_epochs": 10},
    # d=2 (seed 2, as train-d2): does what helps at d=64 help here?
    "d2-relu-cosine-15": {"latent_dim": 2, "seed": 2, "epochs": 15, "lr_schedule": "cosine"},
    "d2-relu-bs64-cosine-15": {"latent_dim": 2, "seed": 2, "epochs": 15, "lr_schedule": "cosine", "batch_size": 64},
}
# train.precision: bf16 autocast against fp32, both compiled as the pipeline trains; at d=2 from two seeds.
PRECISION_RUNS: dict[str, tuple[str, dict[str, Any]]] = {  # name: (the variation it repeats, overrides)
    "elu-bs64-cosine-15": ("elu-bs64-cosine-15", {}),
    "d2-relu-bs64-cosine-15": ("d2-relu-bs64-cosine-15", {}),
    "d2-relu-bs64-cosine-15-seed7": ("d2-relu-bs64-cosine-15", {"seed": 7}),
}
VARIATIONS.update({f"{name}-compiled-{precision}": {**VARIATIONS[source], **overrides, "compile": True,
                                                     "precision": precision}
                   for name, (source, overrides) in PRECISION_RUNS.items() for precision in ("fp32", "bf16")})


def run(name: str, block: dict[str, Any], x: dict[str, torch.Tensor]) -> dict[str, Any]:
    config = TrainConfig(epochs=block["epochs"], batch_size=block["batch_size"], lr=block["lr"], seed=block["seed"],
                         lr_schedule=block["lr_schedule"], kl_warmup_epochs=block["kl_warmup_epochs"],
                         compile=block["compile"], precision=block["precision"])
    model_config = ModelConfig(block["latent_dim"], tuple(block["hidden"]), block["activation"])
    result = fit(model_config, x["train"], x["val"], config)
    test = elbo_terms(result.model, x["test"], seed=block["seed"])
    return {"variation": name, "settings": block, "best_epoch": result.best_epoch,
            "best_val_loss": round(result.history[result.best_epoch - 1].val_loss, 2),
            "test_loss": round(test.loss, 2), "train_seconds": round(result.train_seconds)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help=f"variations to run (default: all): {', '.join(VARIATIONS)}")
    ap.add_argument("--data", type=Path, default=Path("data/prepared/mnist.npz"), help="prepared arrays")
    ap.add_argument("--out", type=Path, default=Path("levers.jsonl"), help="JSON lines, appended")
    args = ap.parse_args()
    unknown = [n for n in args.names if n not in VARIATIONS]
    if unknown:
        ap.error(f"unknown variation(s) {', '.join(unknown)}; choose from {', '.join(VARIATIONS)}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    x = split_tensors(data.load_prepared(args.data), torch.device("cpu"))
    for name in args.names or VARIATIONS:
        row = run(name, {**BASE, **VARIATIONS[name]}, x)
        print(json.dumps(row))
        with args.out.open("a") as f:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
