"""Progress bars that stay quiet in logs.

Bars are drawn only on an interactive terminal outside CI; elsewhere callers log
one line per unit of work instead, which reads better in a CI log than bar redraws.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def bars_enabled() -> bool:
    return sys.stderr.isatty() and os.environ.get("CI", "").lower() not in ("true", "1")


def progress(iterable: Iterable[T] | None = None, **kwargs: object) -> tqdm:
    """A tqdm bar over ``iterable`` (or one updated by hand, given ``total``), drawn only where bars_enabled()."""
    return tqdm(iterable, disable=not bars_enabled(), file=sys.stderr, dynamic_ncols=True, **kwargs)
