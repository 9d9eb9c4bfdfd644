"""Parse and format ``name:key=value,key=value`` specification strings.

A SPEC names a registered object and the keyword arguments of its constructor, so that
``slime:segmentation=temporal,n_segments=10`` maps one to one onto
``SLIME(segmentation="temporal", n_segments=10)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from audiox_bench.core.errors import SpecError

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_value(text: str) -> Any:
    """Turn the text of one SPEC value into a Python value.

    ``true``/``false`` become booleans, ``none`` becomes None, integers and floats become numbers,
    anything else stays a string. ``a|b|c`` alternatives are expanded earlier (:func:`expand_grid`).
    """
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def format_value(value: Any) -> str:
    """Inverse of :func:`parse_value` for the values it produces."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    return str(value)


@dataclass(frozen=True)
class Spec:
    """A parsed SPEC: the registered name and constructor keywords.

    Parameters
    ----------
    name : str
        Registered name of the object.
    params : dict
        Keyword arguments, already converted with :func:`parse_value`.
    """

    name: str
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        if not self.params:
            return self.name
        body = ",".join(f"{k}={format_value(v)}" for k, v in sorted(self.params.items()))
        return f"{self.name}:{body}"


def parse_spec(text: str) -> Spec:
    """Parse ``name`` or ``name:key=value,key=value``.

    Raises
    ------
    SpecError
        If the text is empty, a key is malformed or repeated, or an item has no ``=``.
    """
    if not isinstance(text, str) or not text.strip():
        raise SpecError("empty SPEC: expected 'name' or 'name:key=value,...'")
    text = text.strip()
    name, sep, body = text.partition(":")
    name = name.strip()
    if not _NAME.match(name):
        raise SpecError(f"bad SPEC {text!r}: {name!r} is not a valid name")
    params: dict[str, Any] = {}
    if sep and not body.strip():
        raise SpecError(f"bad SPEC {text!r}: nothing after ':' (expected key=value,...)")
    if body.strip():
        for item in body.split(","):
            key, eq, value = item.partition("=")
            key = key.strip()
            if not eq or not _KEY.match(key):
                raise SpecError(f"bad SPEC {text!r}: {item!r} is not of the form key=value")
            if key in params:
                raise SpecError(f"bad SPEC {text!r}: key {key!r} is given twice")
            params[key] = parse_value(value.strip())
    return Spec(name, params)


def expand_grid(text: str) -> list[str]:
    """One SPEC per combination of ``|``-separated alternatives, in the order written.

    ``slime:content=zero|mean_inp,n_samples=1000|5000`` gives four SPECs, ``content`` varying slowest;
    a SPEC without ``|`` is returned as it is. This is how a sweep is one command.
    """
    spec = parse_spec(text)
    if not any("|" in str(v) for v in spec.params.values()):
        return [str(spec) if spec.params else spec.name]
    grid: list[dict[str, Any]] = [{}]
    for key, value in spec.params.items():
        choices = str(value).split("|") if isinstance(value, str) else [format_value(value)]
        if any(not c.strip() for c in choices):
            raise SpecError(f"bad SPEC {text!r}: empty alternative in {key}={value}")
        grid = [{**partial, key: parse_value(c.strip())} for partial in grid for c in choices]
    return [str(Spec(spec.name, params)) for params in grid]
