"""Finds every Ingestor subclass in the ingest package, so adding a format is adding a module, nothing else."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Callable

import ingest
from costwarden.errors import FormatDetectionError, UsageError
from ingest.base import Ingestor
from ingest.storage import SourceObject

_FRAMEWORK = {"base", "registry", "runner", "storage", "lines", "identity", "jsonlines", "tabular"}


def ingestors() -> dict[str, type[Ingestor]]:
    for info in pkgutil.iter_modules(ingest.__path__):
        if info.name not in _FRAMEWORK and not info.name.startswith("_"):
            importlib.import_module(f"ingest.{info.name}")
    found: dict[str, type[Ingestor]] = {}
    stack = list(Ingestor.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.format:
            found[cls.format] = cls
    return dict(sorted(found.items()))


def get(fmt: str) -> type[Ingestor]:
    known = ingestors()
    if fmt not in known:
        raise UsageError(f"unknown format '{fmt}'. Known formats: {', '.join(known)}.")
    return known[fmt]


def detect(uri: str, objects: list[SourceObject], peek: Callable[[], bytes] | None) -> type[Ingestor]:
    scores = sorted(((cls.detect(objects, peek), name, cls) for name, cls in ingestors().items()),
                    key=lambda t: (-t[0], t[1]))
    if not scores or scores[0][0] <= 0:
        raise FormatDetectionError(
            f"cannot tell which format {uri} holds ({len(objects)} objects). Pass --format, one of: "
            f"{', '.join(ingestors())}.")
    return scores[0][2]
