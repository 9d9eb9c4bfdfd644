"""Constructor parameters of registered objects: their types, defaults and meanings.

A SPEC (``slime:n_segments=10``) maps onto constructor keywords. Values are checked against the
constructor's annotations before anything runs, so ``slime:n_segments=abc`` is one clear error, and
``audiox list explainers slime`` shows every parameter with its type, default and one-line meaning
(read from the numpy-style docstring).
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

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
    """First sentence of each entry of a numpy-style Parameters section (``a, b : int`` shares one), and
    of the Attributes sections of the classes named in ``parameters_documented_by`` (settings a
    constructor takes keyword by keyword, documented once where they are defined)."""
    doc = inspect.getdoc(factory) or ""
    if factory.__init__.__doc__ and "Parameters" in (factory.__init__.__doc__ or "") and isinstance(factory, type):
        doc += "\n" + inspect.cleandoc(factory.__init__.__doc__)
    meanings = _section_meanings(doc, "Parameters")
    for documented in getattr(factory, "parameters_documented_by", ()):
        for name, text in _section_meanings(inspect.getdoc(documented) or "", "Attributes").items():
            meanings.setdefault(name, text)
    return meanings


def _section_meanings(doc: str, title: str) -> dict[str, str]:
    meanings: dict[str, str] = {}
    section = re.search(title + r"\n-+\n(.*?)(?:\n\n[A-Z][a-z]+\n-+\n|\Z)", doc, re.DOTALL)
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


def defaults_of(factory: Callable[..., Any]) -> dict[str, Any]:
    """The keyword parameters of ``factory`` that have a default, with it."""
    signature = _signature(factory)
    if signature is None:
        return {}
    return {
        name: parameter.default
        for name, parameter in signature.parameters.items()
        if parameter.default is not inspect.Parameter.empty
        and parameter.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }


class Configured:
    """An object that reports the parameters it was built with (scikit-learn's ``get_params``).

    Every subclass's constructor is wrapped to record the keyword arguments of the outermost call, so
    :meth:`get_params` is the whole configuration (given values over the constructor's defaults) and
    :meth:`canonical_params` what sets it apart from the defaults: a SPEC's canonical form comes from
    the built object, and two spellings of one configuration get one form. A subclass whose parameters
    interact (one that matters only for some value of another) drops what does not matter in
    :meth:`canonical_params`.
    """

    _given: dict[str, Any]
    _records_parameters: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None or getattr(init, "_records_parameters", False):
            return
        signature = inspect.signature(init)
        spread = [n for n, p in signature.parameters.items() if p.kind is inspect.Parameter.VAR_KEYWORD]

        @functools.wraps(init)
        def recording_init(self: Any, *args: Any, **keywords: Any) -> None:
            if "_given" not in self.__dict__:  # the outermost constructor's call is the configuration
                given = dict(signature.bind(self, *args, **keywords).arguments)
                given.pop(next(iter(signature.parameters)))  # self
                for name in spread:
                    given.update(given.pop(name, {}))
                self.__dict__["_given"] = given
            init(self, *args, **keywords)

        recording_init._records_parameters = True  # type: ignore[attr-defined]
        cls.__init__ = recording_init  # type: ignore[method-assign]

    def get_params(self) -> dict[str, Any]:
        """Every parameter: the constructor's defaults, overridden by what the call gave."""
        return {**defaults_of(type(self)), **self.__dict__.get("_given", {})}

    def canonical_params(self) -> dict[str, Any]:
        """The parameters that differ from the constructor's defaults (what a canonical SPEC names)."""
        defaults = defaults_of(type(self))
        return {k: v for k, v in self.get_params().items() if k not in defaults or not _same(v, defaults[k])}


def _same(a: Any, b: Any) -> bool:
    """Equal values of a SPEC (``1`` and ``1.0`` are one value; ``True`` and ``1`` are not)."""
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b
