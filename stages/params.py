"""Load ``params.yaml`` and validate every key before any stage does work.

This is the only module that reads the params file. Each rule names what is
allowed, so an error reads: ``params.yaml: train-d64.lr = -1: expected a finite number > 0``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from vae.errors import PipelineError
from vae.options import ACTIVATIONS, LR_SCHEDULES, PRECISIONS, TSNE_METHODS

TRAIN_BLOCK_PATTERN = re.compile(r"train-d([1-9][0-9]*)")
DEVICES = ("auto", "cpu", "cuda")
MNIST_TRAIN_IMAGES = 60_000
MNIST_TEST_IMAGES = 10_000


class Yaml12Loader(yaml.SafeLoader):
    """SafeLoader that reads ``1e6`` and ``1e-3`` as floats, as YAML 1.2 does; PyYAML's YAML 1.1
    rules need a dot (``1.0e-3``) and would hand the stage the string ``'1e-3'``."""


Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?"
               r"|[0-9][0-9_]*[eE][-+]?[0-9]+)$|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$"),
    list("-+0123456789."),
)


class ParamError(PipelineError):
    """A key of params.yaml is missing, unknown, or has a value outside what is allowed."""


@dataclass(frozen=True)
class Rule:
    allowed: str  # what the error message says is allowed
    check: Callable[[Any], bool]


def integer(lo: int, hi: int | None = None) -> Rule:
    bound = f"in [{lo}, {hi}]" if hi is not None else f">= {lo}"
    return Rule(f"an integer {bound}", lambda v: _is_int(v) and v >= lo and (hi is None or v <= hi))


def positive_number() -> Rule:
    return Rule("a finite number > 0", lambda v: _is_number(v) and math.isfinite(v) and v > 0)


def choice(*options: str) -> Rule:
    return Rule("one of " + ", ".join(repr(o) for o in options), lambda v: v in options)


def int_list(lo: int) -> Rule:
    return Rule(f"a non-empty list of integers >= {lo}",
                lambda v: isinstance(v, list) and len(v) > 0 and all(_is_int(x) and x >= lo for x in v))


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def boolean() -> Rule:
    return Rule("true or false", lambda v: isinstance(v, bool))


TRAIN_BLOCK = {
    "hidden": int_list(1),
    "activation": choice(*ACTIVATIONS),
    "epochs": integer(1),
    "batch_size": integer(1),
    "lr": positive_number(),
    "lr_schedule": choice(*LR_SCHEDULES),
    "kl_warmup_epochs": integer(0),
    "seed": integer(0),
}

# Blocks every params file has; any number of train-d<N> blocks (one per train stage) join them.
SCHEMA: dict[str, dict[str, Rule]] = {
    "data": {
        "val_size": integer(1, MNIST_TRAIN_IMAGES - 1),
        "split_seed": integer(0),
        "train_size": integer(1, MNIST_TRAIN_IMAGES - 1),
        "test_size": integer(1, MNIST_TEST_IMAGES),
    },
    "train": {"device": choice(*DEVICES), "compile": boolean(), "precision": choice(*PRECISIONS),
              "iw_samples": integer(1)},
    "baseline": {"hidden": int_list(1), "batch_size": integer(1), "lr": positive_number()},
    "embed": {
        "knn_k": integer(1),
        "tsne_perplexity": positive_number(),
        "tsne_method": choice(*TSNE_METHODS),
        "seed": integer(0),
    },
    "report": {"reference_val_loss": positive_number(), "reference_latent_dim": integer(1)},
}


def rules_for(block: str) -> dict[str, Rule] | None:
    if isinstance(block, str) and TRAIN_BLOCK_PATTERN.fullmatch(block):
        return TRAIN_BLOCK
    return SCHEMA.get(block)


def validate(params: Any, source: str = "params.yaml") -> dict[str, dict[str, Any]]:
    """Check ``params`` against the schema; raise :class:`ParamError` on the first problem."""
    allowed_blocks = ", ".join([*SCHEMA, "train-d<N>"])
    if not isinstance(params, Mapping):
        raise ParamError(f"{source}: expected a mapping of blocks ({allowed_blocks}), got {type(params).__name__}")
    for block in params:
        if rules_for(block) is None:
            raise ParamError(f"{source}: unknown block {block!r}; allowed blocks: {allowed_blocks}")
    for block in [*SCHEMA, *(b for b in params if b not in SCHEMA)]:
        rules = rules_for(block)
        values = params.get(block)
        if not isinstance(values, Mapping):
            raise ParamError(f"{source}: block {block!r} is missing or not a mapping; it needs keys {', '.join(rules)}")
        for key in values:
            if key not in rules:
                raise ParamError(f"{source}: unknown key {block}.{key}; allowed keys: {', '.join(rules)}")
        for key, rule in rules.items():
            if key not in values:
                raise ParamError(f"{source}: missing key {block}.{key}; expected {rule.allowed}")
            if not rule.check(values[key]):
                raise ParamError(f"{source}: {block}.{key} = {values[key]!r}: expected {rule.allowed}")
    data, embed = params["data"], params["embed"]
    if embed["tsne_perplexity"] >= data["test_size"]:
        raise ParamError(f"{source}: embed.tsne_perplexity = {embed['tsne_perplexity']}: expected less than "
                         f"data.test_size ({data['test_size']}), the number of points t-SNE embeds")
    if embed["knn_k"] > data["train_size"]:
        raise ParamError(f"{source}: embed.knn_k = {embed['knn_k']}: expected at most data.train_size "
                         f"({data['train_size']}), the number of neighbours to choose from")
    if data["train_size"] + data["val_size"] > MNIST_TRAIN_IMAGES:
        raise ParamError(
            f"{source}: data.train_size + data.val_size = {data['train_size'] + data['val_size']}: "
            f"expected at most the {MNIST_TRAIN_IMAGES} MNIST training images"
        )
    return {block: dict(values) for block, values in params.items()}


def load(path: Path = Path("params.yaml")) -> dict[str, dict[str, Any]]:
    """Read and validate the params file."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ParamError(f"cannot read {path}: {exc.strerror}") from None
    try:
        params = yaml.load(text, Loader=Yaml12Loader)
    except yaml.YAMLError as exc:
        raise ParamError(f"{path} is not valid YAML: {' '.join(str(exc).split())}") from None
    return validate(params, str(path))


def train_block(params: Mapping[str, dict[str, Any]], latent_dim: int) -> dict[str, Any]:
    """The settings of the train stage for ``latent_dim`` (block ``train-d<latent_dim>``)."""
    name = f"train-d{latent_dim}"
    if name not in params:
        present = ", ".join(b for b in params if TRAIN_BLOCK_PATTERN.fullmatch(b)) or "none"
        raise ParamError(f"params.yaml has no block {name} for latent dimension {latent_dim}; "
                         f"train blocks present: {present}")
    return params[name]
