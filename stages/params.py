"""Read ``params.yaml`` and validate the keys a stage reads before it does any work.

This is the only module that reads the params file. It knows no block: each stage declares the rules of
what it reads (its ``SCHEMA``), named as its ``params:`` entry in dvc.yaml names them, so that editing one
stage's rules reruns that stage alone. Each rule names what is allowed, so an error reads:
``params.yaml: train-d64.lr = -1: expected a finite number > 0``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

import yaml

from vae.errors import PipelineError


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


# What a stage reads: "block" -> the rules of every key of that block (other keys are errors), or
# "block.key" -> the rule of that one key, where the stage reads one key of a block another stage owns.
Schema = Mapping[str, Union[Rule, Mapping[str, Rule]]]
Params = dict[str, dict[str, Any]]
SEED_MAX = 2**32 - 1


def keys(name: str, rules: Mapping[str, Rule]) -> Schema:
    """``rules`` as single-key entries of block ``name``: for a stage that reads some keys of a block."""
    return {f"{name}.{key}": rule for key, rule in rules.items()}


def integer(lo: int, hi: int | None = None) -> Rule:
    bound = f"in [{lo}, {hi}]" if hi is not None else f">= {lo}"
    return Rule(f"an integer {bound}", lambda v: _is_int(v) and v >= lo and (hi is None or v <= hi))


def positive_number() -> Rule:
    return Rule("a finite number > 0", lambda v: is_number(v) and math.isfinite(v) and v > 0)


def choice(*options: str) -> Rule:
    return Rule("one of " + ", ".join(repr(o) for o in options), lambda v: v in options)


def int_list(lo: int, hi: int | None = None, distinct: bool = False) -> Rule:
    bound = f"in [{lo}, {hi}]" if hi is not None else f">= {lo}"
    return Rule(f"a non-empty list of {'distinct ' * distinct}integers {bound}",
                lambda v: (isinstance(v, list) and len(v) > 0 and (not distinct or _distinct(v))
                           and all(_is_int(x) and x >= lo and (hi is None or x <= hi) for x in v)))


def seed() -> Rule:
    """A random seed: torch and numpy take any of these."""
    return integer(0, SEED_MAX)


def seed_list() -> Rule:
    """Distinct seeds, at least one."""
    return int_list(0, SEED_MAX, distinct=True)


def name_list(pattern: str, what: str) -> Rule:
    """A non-empty list of distinct strings, each matching ``pattern`` (``what`` says how they look)."""
    return Rule(f"a non-empty list of distinct {what}",
                lambda v: (isinstance(v, list) and len(v) > 0 and _distinct(v)
                           and all(isinstance(x, str) and re.fullmatch(pattern, x) for x in v)))


def boolean() -> Rule:
    return Rule("true or false", lambda v: isinstance(v, bool))


def _distinct(values: list[Any]) -> bool:
    return len({repr(x) for x in values}) == len(values)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v: Any) -> bool:
    """An int or a float, not a bool."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def read(path: Path = Path("params.yaml")) -> Params:
    """The params file as a mapping of blocks, unvalidated."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ParamError(f"cannot read {path}: {exc.strerror}") from None
    try:
        params = yaml.load(text, Loader=Yaml12Loader)
    except yaml.YAMLError as exc:
        raise ParamError(f"{path} is not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(params, Mapping):
        raise ParamError(f"{path}: expected a mapping of blocks, got {type(params).__name__}")
    return params


def block(params: Mapping[str, Any], name: str, source: str, needs: str) -> Mapping[str, Any]:
    """Block ``name`` of ``params``; a missing block or one that is not a mapping is an error."""
    values = params.get(name)
    if not isinstance(values, Mapping):
        state = "missing" if values is None else f"not a mapping ({type(values).__name__})"
        raise ParamError(f"{source}: block {name!r} is {state}; it needs {needs}")
    return values


def check(source: str, name: str, values: Mapping[str, Any], key: str, rule: Rule) -> Any:
    if key not in values:
        raise ParamError(f"{source}: missing key {name}.{key}; expected {rule.allowed}")
    if not rule.check(values[key]):
        raise ParamError(f"{source}: {name}.{key} = {values[key]!r}: expected {rule.allowed}")
    return values[key]


def validate(params: Mapping[str, Any], schema: Schema, source: str = "params.yaml") -> Params:
    """Check what ``schema`` names; return those values as {block: {key: value}}. Raise :class:`ParamError`
    on the first problem."""
    checked: Params = {}
    for entry, rules in schema.items():
        name, _, key = entry.partition(".")
        if isinstance(rules, Rule):
            values = block(params, name, source, f"key {key}")
            checked.setdefault(name, {})[key] = check(source, name, values, key, rules)
            continue
        values = block(params, name, source, f"keys {', '.join(rules)}")
        for unknown in sorted(values.keys() - rules.keys()):
            raise ParamError(f"{source}: unknown key {name}.{unknown}; allowed keys: {', '.join(rules)}")
        checked[name] = {k: check(source, name, values, k, rule) for k, rule in rules.items()}
    return checked


def load(path: Path, schema: Schema) -> Params:
    """Read the params file and validate what ``schema`` names."""
    return validate(read(path), schema, str(path))
