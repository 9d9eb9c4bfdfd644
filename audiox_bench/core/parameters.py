"""Constructor parameters of registered objects: their types, defaults and meanings.

A SPEC (``slime:n_segments=10``) maps onto constructor keywords. Values are checked against the
constructor's annotations before anything runs, so ``slime:n_segments=abc`` is one clear error, and
``audiox list explainers slime`` shows every parameter with its type, default and one-line meaning
(read from the numpy-style docstring).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from audiox_bench.core.errors import SpecError

_SIMPLE_TYPES: dict[str, tuple[type, ...]] = {"int": (int,), "float": (float, int), "str": (str,), "bool": (bool,)}


@dataclass(frozen=True)
class ParameterInfo:
    """One constructor parameter: name, annotation text, default (``inspect.Parameter.empty`` if
    required) and the first sentence of its docstring entry."""

    name: str
    annotation: str
    default: Any
    meaning: str

    @property
    def required(self) -> bool:
        return self.default is inspect.Parameter.empty


def _signature(factory: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(factory)
    except (TypeError, ValueError):
        return None


def constructor_keywords(factory: Callable[..., Any]) -> list[str] | None:
    """Keyword parameters of a class or function; None if it takes ``**kwargs`` (anything goes)."""
    signature = _signature(factory)
    if signature is None:
        return None
    names = []
    for parameter in signature.parameters.values():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            return None
        if parameter.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY):
            names.append(parameter.name)
    return names


def _annotation_text(annotation: Any) -> str:
    if annotation is inspect.Parameter.empty:
        return ""
    return annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))


def _accepts(annotation: str, value: Any) -> bool | None:
    """Whether ``value`` fits a simple annotation (``int``, ``float | None`` ...); None if the
    annotation is not one this check understands (then anything is accepted)."""
    options = [part.strip() for part in annotation.replace("Optional[", "").rstrip("]").split("|")]
    if not options or any(o not in _SIMPLE_TYPES and o != "None" for o in options):
        return None
    if value is None:
        return "None" in options
    for option in options:
        if option == "None":
            continue
        if isinstance(value, bool) and option != "bool":
            continue
        if isinstance(value, _SIMPLE_TYPES[option]):
            return True
    return False


def check_values(kind: str, name: str, factory: Callable[..., Any], values: dict[str, Any]) -> None:
    """Raise :class:`SpecError` for the first value that does not fit its parameter's annotation."""
    signature = _signature(factory)
    if signature is None:
        return
    for key, value in values.items():
        parameter = signature.parameters.get(key)
        if parameter is None:
            continue
        annotation = _annotation_text(parameter.annotation)
        if _accepts(annotation, value) is False:
            raise SpecError(
                f"{kind} {name!r}: {key} must be {annotation.replace(' | ', ' or ')}, "
                f"got {value!r} ({type(value).__name__})"
            )


def _docstring_meanings(factory: Callable[..., Any]) -> dict[str, str]:
    """First sentence of each entry of a numpy-style Parameters section (``a, b : int`` shares one)."""
    doc = inspect.getdoc(factory) or ""
    if factory.__init__.__doc__ and "Parameters" in (factory.__init__.__doc__ or "") and isinstance(factory, type):
        doc += "\n" + inspect.cleandoc(factory.__init__.__doc__)
    meanings: dict[str, str] = {}
    section = re.search(r"Parameters\n-+\n(.*?)(?:\n\n[A-Z][a-z]+\n-+\n|\Z)", doc, re.DOTALL)
    if not section:
        return meanings
    current: list[str] = []
    for line in section.group(1).splitlines():
        if line and not line.startswith(" "):
            current = [n.strip().lstrip("*") for n in line.split(":")[0].split(",") if n.strip()]
            for n in current:
                meanings.setdefault(n, "")
        elif line.strip() and current:
            for n in current:
                meanings[n] = (meanings[n] + " " + line.strip()).strip()
    return {n: re.split(r"(?<=\.)\s", text, maxsplit=1)[0] for n, text in meanings.items()}


def parameter_infos(factory: Callable[..., Any]) -> list[ParameterInfo]:
    """The keyword parameters of ``factory`` with annotations, defaults and meanings."""
    signature = _signature(factory)
    if signature is None:
        return []
    meanings = _docstring_meanings(factory)
    infos = []
    for parameter in signature.parameters.values():
        if parameter.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY):
            infos.append(
                ParameterInfo(
                    parameter.name,
                    _annotation_text(parameter.annotation),
                    parameter.default,
                    meanings.get(parameter.name, ""),
                )
            )
        elif parameter.kind is inspect.Parameter.VAR_KEYWORD:
            infos.append(
                ParameterInfo(f"**{parameter.name}", "", inspect.Parameter.empty, meanings.get(parameter.name, ""))
            )
    return infos
