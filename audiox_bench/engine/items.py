"""One unit of work: every explainer configuration and repeat of one example, with its metrics.

A work item runs wherever the executor puts it (this process, a process pool, a Dask worker). The
context it needs (the task with its trained model, the explainers, the metrics) is pickled once per run
and unpickled once per worker process; the item itself carries only the example and what to do.
"""

from __future__ import annotations

import hashlib
import pickle
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np

from audiox_bench.core.contracts import Example, Explainer, Explanation, Metric, MetricInput
from audiox_bench.core.errors import AudioxError, ExplainerOutputError, NotApplicableError
from audiox_bench.core.task import Task


def item_seed(root: int, *parts: Any) -> int:
    """A stable 32-bit seed for one work item (independent of run order and Python's hash salt).

    The runner derives it from (task, example, repeat) but not from the explainer, so every explainer
    configuration sees the same random numbers on an instance: comparisons between configurations are
    paired, and differences come from the configurations, not from the draws.
    """
    text = "|".join([str(root), *map(str, parts)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


def check_explanation(explanation: Any, n_components: int) -> Explanation:
    """Reject what is not a usable explanation (wrong type, shape, NaN or infinite weights)."""
    if not isinstance(explanation, Explanation):
        raise ExplainerOutputError(f"explainer returned {type(explanation).__name__}, not an Explanation")
    weights = np.asarray(explanation.weights, dtype=np.float64)
    if weights.shape != (n_components,):
        raise ExplainerOutputError(f"explainer returned weights of shape {weights.shape}, expected ({n_components},)")
    if not np.all(np.isfinite(weights)):
        raise ExplainerOutputError("explainer returned NaN or infinite weights")
    if len(explanation.components) != n_components:
        raise ExplainerOutputError("explainer returned a component list of the wrong length")
    return explanation


def _json_float(value: Any) -> Any:
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def explain_item(task_name: str, task: Task, explainer_name: str, explainer: Explainer,
                 metrics: dict[str, Metric], example: Example, factorization, repeat: int,
                 target: int, seed: int) -> dict[str, Any]:
    """Run one explanation and its metrics; failures become an error record, never an exception."""
    record: dict[str, Any] = {
        "task": task_name, "explainer": explainer_name, "example_id": example.id, "repeat": repeat,
        "seed": seed, "target": int(target), "target_name": task.model.classes[target], "label": example.label,
        "components": None, "weights": None, "intercept": None, "surrogate_r2": None, "n_model_calls": 0,
        "seconds": 0.0, "ground_truth": None, "metrics": {}, "extra": {}, "error": None,
    }
    try:
        if isinstance(factorization, BaseException):
            raise factorization
        truth = task.ground_truth(example, factorization)
        record["ground_truth"] = sorted(truth.components) if truth is not None else None
        explanation = check_explanation(
            explainer.explain(task.model, example, factorization, target, seed), factorization.n_components)
        record.update(components=list(explanation.components),
                      weights=[float(w) for w in explanation.weights],
                      intercept=_json_float(explanation.intercept), surrogate_r2=_json_float(explanation.score),
                      n_model_calls=int(explanation.n_model_calls), seconds=round(explanation.seconds, 4),
                      extra={k: _json_float(v) if isinstance(v, float) else v for k, v in explanation.extra.items()})
        item = MetricInput(explanation, truth, task.model, example, factorization, explainer, target, seed)
        for metric in metrics.values():
            values = metric.score(item)
            record["metrics"].update({k: _json_float(v) for k, v in values.items() if not k.startswith("_")})
            data = {k: v for k, v in values.items() if k.startswith("_")}
            if data:
                record.setdefault("metric_data", {}).update(data)
    except NotApplicableError as exc:  # the explainer does not apply here: N/A, not a failure
        record["not_applicable"] = str(exc)
    except Exception as exc:  # noqa: BLE001 - recorded, the run goes on
        record["error"] = f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, AudioxError):
            record["traceback"] = traceback.format_exc(limit=6)
    return record


@dataclass
class WorkContext:
    """What every work item of one task needs: the task (with its model), explainers, metrics, root seed."""

    task_name: str
    task: Task
    explainers: dict[str, Explainer]
    metrics: dict[str, Metric]
    root_seed: int


@dataclass(frozen=True)
class WorkItem:
    """One example, its target class, and the (explainer, repeat) pairs still to run on it."""

    example: Example
    target: int
    todo: tuple[tuple[str, int], ...]


_CONTEXTS: dict[str, WorkContext] = {}


@dataclass(frozen=True)
class PackedContext:
    """A pickled :class:`WorkContext`, the plugins to import before unpickling it, and a digest."""

    key: str
    data: bytes
    plugins: tuple[str, ...]


def pack_context(context: WorkContext) -> PackedContext:
    """The context pickled once per run (workers unpickle it once each)."""
    from audiox_bench.core.registry import LOADED_PLUGINS

    data = pickle.dumps(context, protocol=pickle.HIGHEST_PROTOCOL)
    return PackedContext(hashlib.blake2b(data, digest_size=12).hexdigest(), data, tuple(LOADED_PLUGINS))


def run_packed(packed: PackedContext, item: WorkItem) -> list[dict[str, Any]]:
    """:func:`run_item` in a worker process: plugins are imported and the context unpickled on the
    worker's first item only; torch gets one thread per worker (the workers share the cores), and
    freed memory stays in the worker (:func:`~audiox_bench.engine.allocator.keep_freed_memory`)."""
    if packed.key not in _CONTEXTS:
        import torch

        from audiox_bench.engine.allocator import keep_freed_memory
        from audiox_bench.core.registry import load_plugin

        torch.set_num_threads(1)
        keep_freed_memory()
        for plugin in packed.plugins:
            load_plugin(plugin)
        _CONTEXTS.clear()  # one run's context at a time
        _CONTEXTS[packed.key] = pickle.loads(packed.data)
    return run_item(_CONTEXTS[packed.key], item)


def run_item(context: WorkContext, item: WorkItem) -> list[dict[str, Any]]:
    """Records of one work item, in (explainer, repeat) order; failures become error records."""
    records = []
    factorizations: dict[str, Any] = {}
    for explainer_name, repeat in item.todo:
        explainer = context.explainers[explainer_name]
        if explainer_name not in factorizations:
            try:
                factorizations[explainer_name] = explainer.factorize(context.task.model, item.example)
            except Exception as exc:  # noqa: BLE001 - becomes the error of each record of this example
                factorizations[explainer_name] = exc
        seed = item_seed(context.root_seed, context.task_name, item.example.id, repeat)
        records.append(explain_item(context.task_name, context.task, explainer_name, explainer, context.metrics,
                                    item.example, factorizations[explainer_name], repeat, item.target, seed))
    return records
