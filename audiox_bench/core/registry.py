"""One registry type for tasks, explainers, metrics, separators and occlusion contents.

Objects register under a name with a decorator::

    @explainers.register("audiolime")
    class AudioLIME(Explainer): ...

and are built from a SPEC string (``audiolime:separator=hpss``) whose keys map onto constructor
keywords. Third-party code registers through the entry-point group ``audiox_bench.<kind>`` (loaded only
when its name is looked up) or through :func:`load_plugin` (``--plugin module_or_file.py``).
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import importlib.util
import inspect
import sys
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Generic, TypeVar

from audiox_bench.core.errors import AudioxError, SpecError, UnknownNameError
from audiox_bench.core.spec import Spec, parse_spec

T = TypeVar("T")


def close_matches_hint(word: str, candidates: Iterable[str]) -> str:
    """Return `` (did you mean 'x'?)`` for the closest candidates, or an empty string."""
    matches = difflib.get_close_matches(word, list(candidates), n=3, cutoff=0.5)
    if not matches:
        return ""
    return " (did you mean " + " or ".join(repr(m) for m in matches) + "?)"


class Registry(Generic[T]):
    """Names -> factories of one kind of object.

    Parameters
    ----------
    kind : str
        Plural noun used in messages and in the entry-point group (``audiox_bench.<kind>``).
    builtin_module : str, optional
        Module imported on first lookup; importing it registers the built-in objects.
    """

    def __init__(self, kind: str, builtin_module: str | None = None) -> None:
        self.kind = kind
        self.entry_point_group = f"audiox_bench.{kind}"
        self._builtin_module = builtin_module
        self._factories: dict[str, Callable[..., T]] = {}
        self._builtins_loaded = builtin_module is None

    # -- registration -------------------------------------------------------------------------
    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator registering a class or factory function under ``name``."""

        def decorate(factory: Callable[..., T]) -> Callable[..., T]:
            self.add(name, factory)
            return factory

        return decorate

    def add(self, name: str, factory: Callable[..., T]) -> None:
        """Register ``factory`` under ``name``; re-registering the same object is a no-op."""
        existing = self._factories.get(name)
        if existing is not None and existing is not factory and _qualname(existing) != _qualname(
            factory
        ):
            raise AudioxError(f"{self.kind[:-1]} {name!r} is already registered by {_qualname(existing)}")
        self._factories[name] = factory
        try:
            factory.registered_name = name  # type: ignore[attr-defined]
        except (AttributeError, TypeError):
            pass

    # -- lookup ---------------------------------------------------------------------------------
    def _load_builtins(self) -> None:
        if not self._builtins_loaded:
            self._builtins_loaded = True
            importlib.import_module(self._builtin_module)  # type: ignore[arg-type]

    def _entry_points(self) -> dict[str, importlib.metadata.EntryPoint]:
        return {ep.name: ep for ep in importlib.metadata.entry_points(group=self.entry_point_group)}

    def names(self) -> list[str]:
        """All names: built-in, plugin-registered and advertised by entry points (not loaded)."""
        self._load_builtins()
        return sorted(set(self._factories) | set(self._entry_points()))

    def get(self, name: str) -> Callable[..., T]:
        """The factory registered under ``name``.

        Raises
        ------
        UnknownNameError
            With the closest registered names as a hint.
        """
        self._load_builtins()
        if name not in self._factories:
            entry_point = self._entry_points().get(name)
            if entry_point is not None:
                self._load_entry_point(entry_point)
        if name not in self._factories:
            raise UnknownNameError(
                f"unknown {self.kind[:-1]} {name!r}{close_matches_hint(name, self.names())}; "
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

    def build(self, spec: str | Spec, **extra: Any) -> T:
        """Construct the object a SPEC names, checking its keys against the constructor.

        Parameters
        ----------
        spec : str or Spec
            ``name`` or ``name:key=value,...``.
        **extra
            Keywords supplied by the framework (not by the user), passed if the constructor takes them.
        """
        spec = parse_spec(spec) if isinstance(spec, str) else spec
        factory = self.get(spec.name)
        accepted = constructor_keywords(factory)
        if accepted is not None:
            unknown = [k for k in spec.params if k not in accepted]
            if unknown:
                key = unknown[0]
                raise SpecError(
                    f"{self.kind[:-1]} {spec.name!r} has no parameter {key!r}"
                    f"{close_matches_hint(key, accepted)}; parameters: {', '.join(sorted(accepted)) or 'none'}"
                )
            extra = {k: v for k, v in extra.items() if k in accepted}
        try:
            obj = factory(**spec.params, **extra)
        except AudioxError:
            raise
        except (TypeError, ValueError) as exc:
            raise SpecError(f"bad parameters for {self.kind[:-1]} {str(spec)!r}: {exc}") from exc
        return obj

    def describe(self, name: str) -> str:
        """First line of the docstring of ``name`` (entry points are described without loading)."""
        self._load_builtins()
        factory = self._factories.get(name)
        if factory is None:
            return "(plugin, loaded on use)"
        doc = inspect.getdoc(factory) or ""
        return doc.splitlines()[0] if doc else ""

    def __contains__(self, name: str) -> bool:
        return name in self.names()


def constructor_keywords(factory: Callable[..., Any]) -> list[str] | None:
    """Keyword parameters of a class or function; None if it takes ``**kwargs``."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return None
    names = []
    for parameter in signature.parameters.values():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            return None
        if parameter.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY):
            names.append(parameter.name)
    return names


def _qualname(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


LOADED_PLUGINS: list[str] = []  # in load order, so worker processes can load the same ones


def load_plugin(target: str) -> None:
    """Import a plugin so that its decorators register what it defines.

    Parameters
    ----------
    target : str
        A path to a ``.py`` file, or an importable module name.
    """
    path = Path(target)
    if target not in LOADED_PLUGINS:
        LOADED_PLUGINS.append(target)
    try:
        if target.endswith(".py") or path.is_file():
            if not path.is_file():
                raise AudioxError(f"plugin file {target!r} does not exist")
            # A stable name (not Python's salted hash), so worker processes import it under the same
            # name and objects of the plugin unpickle there.
            module_name = f"audiox_plugin_{path.stem}_{zlib.crc32(str(path.resolve()).encode()):08x}"
            if module_name in sys.modules:
                return
            spec = importlib.util.spec_from_file_location(module_name, path)
            if spec is None or spec.loader is None:
                raise AudioxError(f"plugin file {target!r} cannot be imported")
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
        else:
            importlib.import_module(target)
    except AudioxError:
        raise
    except ModuleNotFoundError as exc:
        raise AudioxError(f"plugin {target!r} could not be imported: {exc}") from exc
    except Exception as exc:
        raise AudioxError(f"plugin {target!r} raised while loading: {type(exc).__name__}: {exc}") from exc


tasks: Registry[Any] = Registry("tasks", "audiox_bench.tasks")
explainers: Registry[Any] = Registry("explainers", "audiox_bench.explainers")
metrics: Registry[Any] = Registry("metrics", "audiox_bench.metrics")
separators: Registry[Any] = Registry("separators", "audiox_bench.factorizations.separators")


def canonical_spec(registry: Registry[Any], spec: str | Spec) -> str:
    """The canonical SPEC string: the name plus the parameters that differ from the defaults, sorted.

    ``audiolime:separator=oracle`` and ``audiolime`` name the same configuration, so both become
    ``audiolime``.
    """
    spec = parse_spec(spec) if isinstance(spec, str) else spec
    factory = registry.get(spec.name)
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return str(spec)
    kept = {
        key: value
        for key, value in spec.params.items()
        if key not in parameters or parameters[key].default is inspect.Parameter.empty
        or parameters[key].default != value
    }
    return str(Spec(spec.name, kept))

register_task = tasks.register
register_explainer = explainers.register
register_metric = metrics.register
register_separator = separators.register

contents: Registry[Any] = Registry("contents", "audiox_bench.factorizations.contents")
register_content = contents.register
