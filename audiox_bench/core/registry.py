"""One registry type for tasks, explainers, metrics, separators, occlusion contents and models.

Objects register under a name with a decorator (plugins)::

    @register_explainer("energy")
    class Energy(Explainer): ...

or lazily by ``"module:Attribute"`` (the built-ins, declared in a table per kind: listing names and their
descriptions imports nothing; the module is imported when the object is first built). Third-party
packages register through the entry-point group ``audiox_bench.<kind>``; files and modules through
:func:`audiox_bench.core.plugins.load_plugin` (``--plugin``).

A SPEC (``audiolime:separator=hpss``) is resolved once (:meth:`Registry.resolve`): its keys are checked
against the constructor, the object is built, and its canonical form is read off the built object's
parameters, so equal configurations have one canonical SPEC everywhere downstream.
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import importlib
import importlib.metadata
import importlib.util
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from audiox_bench.core.classifier import Classifier
from audiox_bench.core.errors import AudioxError, SpecError, UnknownNameError
from audiox_bench.core.interfaces import Explainer, GroupMetric, Metric, OcclusionContent, Separator
from audiox_bench.core.parameters import (
    Configured,
    ParameterInfo,
    check_values,
    constructor_keywords,
    defaults_of,
    parameter_infos,
)
from audiox_bench.core.spec import Spec, parse_spec
from audiox_bench.core.task import Task

T = TypeVar("T")


def close_matches_hint(word: str, candidates: Iterable[str]) -> str:
    """Return `` (did you mean 'x'?)`` for the closest candidates, or an empty string."""
    matches = difflib.get_close_matches(word, list(candidates), n=3, cutoff=0.5)
    if not matches:
        return ""
    return " (did you mean " + " or ".join(repr(m) for m in matches) + "?)"


@dataclass(frozen=True)
class Resolved(Generic[T]):
    """A SPEC resolved once: what it names, the object built, and its canonical form.

    Attributes
    ----------
    name : str
        The registered name.
    params : mapping
        Every parameter of the built object (its constructor's defaults, overridden by the SPEC).
    canonical : str
        The canonical SPEC: the name and the parameters that set this configuration apart, sorted (the
        same string for every spelling of one configuration; framework-supplied keywords left out).
    obj : object
        The built object.
    """

    name: str
    params: Mapping[str, Any]
    canonical: str
    obj: T = field(repr=False, compare=False)


def _lazy_docstring(target: str) -> str:
    """The docstring of ``module:Attribute`` read from the module's source, without importing it."""
    module_name, _, attribute = target.partition(":")
    try:
        spec = importlib.util.find_spec(module_name)
        source = Path(spec.origin).read_text(encoding="utf-8") if spec and spec.origin else ""
    except (ImportError, OSError, ValueError):
        return ""
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef) and node.name == attribute:
            return ast.get_docstring(node) or ""
    return ""


def _first_paragraph(doc: str) -> str:
    return " ".join(doc.split("\n\n", 1)[0].split())


class Registry(Generic[T]):
    """Names -> factories of one kind of object.

    Parameters
    ----------
    kind : str
        Plural noun used in messages and in the entry-point group (``audiox_bench.<kind>``).
    bases : tuple of type
        The contract(s) registered objects implement. A class that implements none is refused at
        registration; a factory function's product is checked when it is built.
    builtins : str, optional
        ``"module:TABLE"``: a mapping of built-in names to ``"module:Attribute"``, read when names are
        first needed (the table's module is light; the built-ins' modules are imported on use).
    """

    def __init__(self, kind: str, bases: tuple[type, ...], builtins: str | None = None) -> None:
        self.kind = kind
        self.singular = kind[:-1]
        self.entry_point_group = f"audiox_bench.{kind}"
        self.bases = bases
        self._builtins_table = builtins
        self._factories: dict[str, Callable[..., T]] = {}
        self._lazy: dict[str, str] = {}
        self._tables_read = builtins is None

    # -- registration -------------------------------------------------------------------------
    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator registering a class or factory function under ``name``."""

        def decorate(factory: Callable[..., T]) -> Callable[..., T]:
            self.add(name, factory)
            return factory

        return decorate

    def add(self, name: str, factory: Callable[..., T]) -> None:
        """Register ``factory`` under ``name``; re-registering the same object is a no-op.

        Raises
        ------
        AudioxError
            If ``name`` is taken by another object, or ``factory`` is a class that implements none of
            the registry's contracts.
        """
        self._read_table()
        existing = self._factories.get(name)
        if existing is not None and existing is not factory and _qualname(existing) != _qualname(factory):
            raise AudioxError(f"{self.singular} {name!r} is already registered by {_qualname(existing)}")
        if name in self._lazy and existing is None and self._lazy[name] != _target(factory):
            raise AudioxError(f"{self.singular} {name!r} is a built-in ({self._lazy[name]})")
        if isinstance(factory, type) and not issubclass(factory, self.bases):
            raise AudioxError(
                f"{self.singular} {name!r} ({_qualname(factory)}) must subclass "
                + " or ".join(f"audiox_bench.{b.__name__}" for b in self.bases)
            )
        if not callable(factory):
            raise AudioxError(f"{self.singular} {name!r} is not a class or factory function")
        self._factories[name] = factory
        if isinstance(factory, type):
            factory.name = name  # type: ignore[attr-defined]

    @contextlib.contextmanager
    def scoped(self) -> Iterator[Registry[T]]:
        """A block whose registrations are forgotten at its end (tests register into it)."""
        self._read_table()
        saved = dict(self._factories)
        try:
            yield self
        finally:
            self._factories = saved

    # -- lookup ---------------------------------------------------------------------------------
    def _read_table(self) -> None:
        if not self._tables_read:
            self._tables_read = True
            module, _, table = str(self._builtins_table).partition(":")
            self._lazy.update(getattr(importlib.import_module(module), table))

    def _entry_points(self) -> dict[str, importlib.metadata.EntryPoint]:
        return {ep.name: ep for ep in importlib.metadata.entry_points(group=self.entry_point_group)}

    def names(self) -> list[str]:
        """All names: built-in, plugin-registered and advertised by entry points (nothing is imported)."""
        self._read_table()
        return sorted(set(self._factories) | set(self._lazy) | set(self._entry_points()))

    def builtin_names(self) -> list[str]:
        """The built-in names, in the order their table declares them (nothing is imported)."""
        self._read_table()
        return list(self._lazy)

    def get(self, name: str) -> Callable[..., T]:
        """The factory registered under ``name`` (a built-in's module is imported now).

        Raises
        ------
        UnknownNameError
            With the closest registered names as a hint.
        """
        self._read_table()
        if name not in self._factories and name in self._lazy:
            module, _, attribute = self._lazy[name].partition(":")
            self.add(name, getattr(importlib.import_module(module), attribute))
        if name not in self._factories:
            entry_point = self._entry_points().get(name)
            if entry_point is not None:
                self._load_entry_point(entry_point)
        if name not in self._factories:
            raise UnknownNameError(
                f"unknown {self.singular} {name!r}{close_matches_hint(name, self.names())}; "
                f"known: {', '.join(self.names())}"
            )
        return self._factories[name]

    def _load_entry_point(self, entry_point: importlib.metadata.EntryPoint) -> None:
        try:
            loaded = entry_point.load()
        except Exception as exc:  # third-party code: report, don't crash with a traceback
            raise AudioxError(
                f"entry point {entry_point.name!r} of {self.entry_point_group} failed to load: {exc}"
            ) from exc
        if entry_point.name not in self._factories and callable(loaded):
            self.add(entry_point.name, loaded)

    def resolve(self, spec: str | Spec, **extra: Any) -> Resolved[T]:
        """Parse, check and build what a SPEC names, once.

        Parameters
        ----------
        spec : str or Spec
            ``name`` or ``name:key=value,...``.
        **extra
            Keywords supplied by the framework (not by the user, e.g. ``device``), passed if the
            constructor takes them and left out of the canonical form.

        Raises
        ------
        SpecError
            For an unknown key (with the closest ones as a hint), a value of the wrong type, or a value
            the constructor rejects.
        """
        spec = parse_spec(spec) if isinstance(spec, str) else spec
        factory = self.get(spec.name)
        accepted = constructor_keywords(factory)
        if accepted is not None:
            unknown = [k for k in spec.params if k not in accepted]
            if unknown:
                key = unknown[0]
                raise SpecError(
                    f"{self.singular} {spec.name!r} has no parameter {key!r}"
                    f"{close_matches_hint(key, accepted)}; parameters: {', '.join(sorted(accepted)) or 'none'}"
                )
            extra = {k: v for k, v in extra.items() if k in accepted and k not in spec.params}
        check_values(self.singular, spec.name, factory, spec.params)
        try:
            obj = factory(**spec.params, **extra)
        except AudioxError:
            raise
        except (TypeError, ValueError) as exc:
            raise SpecError(f"bad parameters for {self.singular} {str(spec)!r}: {exc}") from exc
        if not isinstance(obj, self.bases):
            raise AudioxError(
                f"{self.singular} {spec.name!r} built a {type(obj).__name__}, which implements none of "
                + ", ".join(f"audiox_bench.{b.__name__}" for b in self.bases)
            )
        if isinstance(factory, type) and isinstance(obj, Configured):
            params, distinct = obj.get_params(), obj.canonical_params()
        else:  # a factory function's product: its call is its configuration
            defaults = defaults_of(factory)
            params = {**defaults, **spec.params, **extra}
            distinct = {k: v for k, v in spec.params.items() if k not in defaults or v != defaults[k]}
        canonical = str(Spec(spec.name, {k: v for k, v in distinct.items() if k not in extra}))
        return Resolved(spec.name, params, canonical, obj)

    def build(self, spec: str | Spec, **extra: Any) -> T:
        """The object a SPEC names (see :meth:`resolve`)."""
        return self.resolve(spec, **extra).obj

    def canonical(self, spec: str | Spec) -> str:
        """The canonical form of a SPEC (built once to read it; see :meth:`resolve`)."""
        return self.resolve(spec).canonical

    def describe(self, name: str) -> str:
        """The first paragraph of the docstring of ``name``, whole (built-ins and entry points: without
        importing them)."""
        self._read_table()
        factory = self._factories.get(name)
        if factory is not None:
            return _first_paragraph(inspect.getdoc(factory) or "")
        if name in self._lazy:
            return _first_paragraph(_lazy_docstring(self._lazy[name]))
        return "(plugin, loaded on use)"

    def parameters(self, name: str) -> list[ParameterInfo]:
        """The constructor parameters of ``name`` with types, defaults and meanings."""
        return parameter_infos(self.get(name))

    def __contains__(self, name: str) -> bool:
        return name in self.names()


def _qualname(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def _target(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', '?')}"


tasks: Registry[Task] = Registry("tasks", (Task,), "audiox_bench.tasks:BUILTINS")
explainers: Registry[Explainer] = Registry("explainers", (Explainer,), "audiox_bench.explainers:BUILTINS")
metrics: Registry[Metric | GroupMetric] = Registry("metrics", (Metric, GroupMetric), "audiox_bench.metrics:BUILTINS")
separators: Registry[Separator] = Registry("separators", (Separator,), "audiox_bench.factorizations:SEPARATORS")
contents: Registry[OcclusionContent] = Registry("contents", (OcclusionContent,), "audiox_bench.factorizations:CONTENTS")
models: Registry[Classifier] = Registry("models", (Classifier,), "audiox_bench.models:PRETRAINED")
REGISTRIES: dict[str, Registry[Any]] = {r.kind: r for r in (tasks, explainers, metrics, separators, contents, models)}

register_task = tasks.register
register_explainer = explainers.register
register_metric = metrics.register
register_separator = separators.register
register_content = contents.register
register_model = models.register
