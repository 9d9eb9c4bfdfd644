"""One registry type for tasks, explainers, metrics, separators, occlusion contents and models.

Objects register under a name with a decorator::

    @explainers.register("audiolime")
    class AudioLIME(Explainer): ...

and are built from a SPEC string (``audiolime:separator=hpss``) whose keys map onto constructor
keywords. Third-party code registers through the entry-point group ``audiox_bench.<kind>`` (loaded only
when its name is looked up) or through :func:`load_plugin` (``--plugin module_or_file.py``).
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import importlib
import importlib.metadata
import importlib.util
import inspect
import pkgutil
import sys
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Generic, TypeVar

from audiox_bench.core.classifier import Classifier
from audiox_bench.core.contracts import (
    Explainer,
    GroupMetric,
    Metric,
    OcclusionContent,
    Separator,
)
from audiox_bench.core.errors import AudioxError, SpecError, UnknownNameError
from audiox_bench.core.parameters import (
    ParameterInfo,
    check_values,
    constructor_keywords,
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


class Registry(Generic[T]):
    """Names -> factories of one kind of object.

    Parameters
    ----------
    kind : str
        Plural noun used in messages and in the entry-point group (``audiox_bench.<kind>``).
    builtin_package : str
        Package whose modules are imported on first lookup; importing them registers the built-ins
        (every module of the package is discovered, none is listed by hand).
    bases : tuple of type
        The contract(s) registered objects implement. A class that implements none is refused at
        registration; a factory function's product is checked when it is built.
    """

    def __init__(self, kind: str, builtin_package: str, bases: tuple[type, ...]) -> None:
        self.kind = kind
        self.singular = kind[:-1]
        self.entry_point_group = f"audiox_bench.{kind}"
        self.bases = bases
        self._builtin_package = builtin_package
        self._factories: dict[str, Callable[..., T]] = {}
        self._builtins_loaded = False

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
        existing = self._factories.get(name)
        if existing is not None and existing is not factory and _qualname(existing) != _qualname(factory):
            raise AudioxError(f"{self.singular} {name!r} is already registered by {_qualname(existing)}")
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

    # -- lookup ---------------------------------------------------------------------------------
    def _load_builtins(self) -> None:
        if not self._builtins_loaded:
            self._builtins_loaded = True
            import_submodules(self._builtin_package)

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
        """Construct the object a SPEC names, checking its keys and value types against the constructor.

        Parameters
        ----------
        spec : str or Spec
            ``name`` or ``name:key=value,...``.
        **extra
            Keywords supplied by the framework (not by the user), passed if the constructor takes them.

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
            extra = {k: v for k, v in extra.items() if k in accepted}
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
        return obj

    def describe(self, name: str) -> str:
        """The first paragraph of the docstring of ``name``, whole (entry points: without loading)."""
        self._load_builtins()
        factory = self._factories.get(name)
        if factory is None:
            return "(plugin, loaded on use)"
        doc = inspect.getdoc(factory) or ""
        return " ".join(doc.split("\n\n", 1)[0].split())

    def parameters(self, name: str) -> list[ParameterInfo]:
        """The constructor parameters of ``name`` with types, defaults and meanings."""
        return parameter_infos(self.get(name))

    def __contains__(self, name: str) -> bool:
        return name in self.names()


def import_submodules(package: str) -> None:
    """Import every module of ``package`` (not starting with ``_``), so their decorators register them."""
    module = importlib.import_module(package)
    for info in pkgutil.iter_modules(getattr(module, "__path__", []), package + "."):
        if not info.name.rsplit(".", 1)[-1].startswith("_"):
            importlib.import_module(info.name)


def _qualname(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


LOADED_PLUGINS: list[str] = []  # in load order, so worker processes can load the same ones
_PLUGIN_DIGESTS: dict[str, str] = {}  # module name of a plugin file -> SHA-256 of the file it was loaded from


def origin(registry: Registry[Any], name: str) -> dict[str, str] | None:
    """Where the object registered as ``name`` comes from, if not from AudioX-Bench itself: its module,
    file and the file's SHA-256, and its distribution's version when it was installed as a package. A
    run records this so that a rerun can tell which plugin changed since its records were made."""
    factory = registry.get(name)
    module_name = getattr(factory, "__module__", "") or ""
    if module_name.startswith("audiox_bench."):
        return None
    described = {"module": module_name}
    module = sys.modules.get(module_name)
    file = Path(module.__file__) if module is not None and module.__file__ else None
    if file is not None and file.is_file():
        described.update(file=str(file.resolve()), sha256=hashlib.sha256(file.read_bytes()).hexdigest())
    for distribution in importlib.metadata.packages_distributions().get(module_name.split(".")[0], []):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            described["version"] = f"{distribution} {importlib.metadata.version(distribution)}"
    return described


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
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if module_name in sys.modules and _PLUGIN_DIGESTS.get(module_name) == digest:
                return  # loaded already, unchanged (a changed file is loaded again, replacing what it registered)
            _PLUGIN_DIGESTS[module_name] = digest
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
        if key not in parameters
        or parameters[key].default is inspect.Parameter.empty
        or parameters[key].default != value
    }
    return str(Spec(spec.name, kept))


tasks: Registry[Task] = Registry("tasks", "audiox_bench.tasks", (Task,))
explainers: Registry[Explainer] = Registry("explainers", "audiox_bench.explainers", (Explainer,))
metrics: Registry[Metric | GroupMetric] = Registry("metrics", "audiox_bench.metrics", (Metric, GroupMetric))
separators: Registry[Separator] = Registry("separators", "audiox_bench.factorizations.separators", (Separator,))
contents: Registry[OcclusionContent] = Registry("contents", "audiox_bench.factorizations.contents", (OcclusionContent,))
models: Registry[Classifier] = Registry("models", "audiox_bench.models.pretrained", (Classifier,))
REGISTRIES: dict[str, Registry[Any]] = {r.kind: r for r in (tasks, explainers, metrics, separators, contents, models)}

register_task = tasks.register
register_explainer = explainers.register
register_metric = metrics.register
register_separator = separators.register
register_content = contents.register
register_model = models.register
