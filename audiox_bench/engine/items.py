"""One unit of work: every explainer configuration and repeat of one example, with its metrics.

A work item runs wherever the executor puts it (this process, a process pool, a Dask worker). The
context it needs (the task with its trained model, the explainers, the metrics) is pickled once per run
and unpickled once per worker process; the item itself carries only the example and what to do.
"""

from __future__ import annotations

import hashlib
import pickle
import time
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np

from audiox_bench.core.components import Factorization
from audiox_bench.core.data import Example, Explanation, MetricInput, Scores
from audiox_bench.core.errors import AudioxError, ExplainerOutputError, NotApplicableError
from audiox_bench.core.interfaces import Explainer, Metric
from audiox_bench.core.records import Record, json_float
from audiox_bench.core.task import Task
from audiox_bench.perturbation.prediction_cache import cost_meter


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


def score_metrics(record: Record, metrics: dict[str, Metric], item: MetricInput) -> None:
    """Add every metric's values to ``record``; a metric that does not apply leaves its value undefined
    and says why (``metric_notes``), the others still run. A metric's seconds include what results it
    shares with the instance's other explainers and read from a cache cost when first computed (the exact
    Shapley values), so each record's metric cost reads as if it had run alone."""
    for name, metric in metrics.items():
        start = time.perf_counter()
        with cost_meter() as cost:
            try:
                scores = Scores.of(metric.score(item))
            except NotApplicableError as exc:
                scores = Scores(dict.fromkeys(metric.value_names()))
                record.metric_notes[metric.name] = str(exc)
        record.metric_seconds[name] = round(time.perf_counter() - start + cost.shared_seconds, 4)
        record.metrics.update({k: json_float(v) for k, v in scores.values.items()})
        record.metric_data.update(scores.data)


def metric_input(
    task: Task,
    explainer: Explainer,
    example: Example,
    factorization: Factorization,
    explanation: Explanation,
    target: int,
    seed: int,
) -> MetricInput:
    """What a per-instance metric sees of an explanation of class ``target``: with the task's truth, truth
    spans and baseline for that class."""
    truth, truth_note = task.stated_truth(example, factorization, target)
    return MetricInput(
        explanation,
        truth,
        task.model,
        example,
        factorization,
        explainer,
        target,
        seed,
        truth_note=truth_note,
        baseline=task.baseline,
        truth_spans=task.truth_spans(example, target),
    )


def explain_item(
    task_name: str,
    task: Task,
    explainer_name: str,
    explainer: Explainer,
    metrics: dict[str, Metric],
    example: Example,
    factorization: Factorization | BaseException,
    repeat: int,
    target: int,
    seed: int,
) -> Record:
    """Run one explanation and its metrics; failures become an error record, never an exception.

    The record's cost is the explanation's own: the model inputs it needed, of which ``n_cache_hits``
    were answered by the shared prediction cache, and the seconds it took plus what those cached inputs
    cost when they were first evaluated (so the order of explainers on an example does not matter).
    """
    record = Record(
        task_name, explainer_name, example.id, repeat, seed, int(target), task.model.classes[target], example.label
    )
    try:
        if isinstance(factorization, BaseException):
            raise factorization
        truth, _ = task.stated_truth(example, factorization, target)
        record.ground_truth = sorted(truth.components) if truth is not None else None
        start = time.perf_counter()
        with cost_meter() as cost:
            explanation = explainer.explain(task.model, example, factorization, target, seed)
        wall = time.perf_counter() - start
        explanation = check_explanation(explanation, factorization.n_components)
        record.components = list(explanation.components)
        record.weights = [float(w) for w in explanation.weights]
        record.intercept, record.surrogate_r2 = json_float(explanation.intercept), json_float(explanation.score)
        record.n_model_calls = max(int(explanation.n_model_calls), cost.inputs)
        record.n_cache_hits = cost.cache_hits
        record.seconds = round(wall + cost.cached_seconds, 4)
        record.extra = {k: json_float(v) if isinstance(v, float) else v for k, v in explanation.extra.items()}
        score_metrics(record, metrics, metric_input(task, explainer, example, factorization, explanation, target, seed))
    except NotApplicableError as exc:  # the explainer does not apply here: N/A, not a failure
        record.not_applicable = str(exc)
    except Exception as exc:
        record.error = f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, AudioxError):
            record.traceback = traceback.format_exc(limit=6)
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
    from audiox_bench.core.plugins import LOADED_PLUGINS

    data = pickle.dumps(context, protocol=pickle.HIGHEST_PROTOCOL)
    return PackedContext(hashlib.blake2b(data, digest_size=12).hexdigest(), data, tuple(LOADED_PLUGINS))


def run_packed(packed: PackedContext, item: WorkItem) -> list[Record]:
    """:func:`run_item` in a worker process: plugins are imported and the context unpickled on the
    worker's first item only; torch gets one thread per worker (the workers share the cores), and
    freed memory stays in the worker (:func:`~audiox_bench.engine.allocator.keep_freed_memory`)."""
    if packed.key not in _CONTEXTS:
        import torch

        from audiox_bench.core.plugins import load_plugin
        from audiox_bench.engine.allocator import keep_freed_memory

        torch.set_num_threads(1)
        keep_freed_memory()
        for plugin in packed.plugins:
            load_plugin(plugin)
        _CONTEXTS.clear()  # one run's context at a time
        _CONTEXTS[packed.key] = pickle.loads(packed.data)
    return run_item(_CONTEXTS[packed.key], item)


def run_item(context: WorkContext, item: WorkItem) -> list[Record]:
    """Records of one work item, in (explainer, repeat) order; failures become error records.

    Each explanation and its metrics get the same factorization, made once per explainer (or once
    per seed, for factorizations that draw random numbers).
    """
    records = []
    factorizations: dict[tuple[str, int | None], Factorization | BaseException] = {}
    for explainer_name, repeat in item.todo:
        explainer = context.explainers[explainer_name]
        seed = item_seed(context.root_seed, context.task_name, item.example.id, repeat)
        key = (explainer_name, seed if explainer.seeded_factorization else None)
        if key not in factorizations:
            try:
                factorizations[key] = explainer.factorize_for(context.task.model, item.example, seed)
            except Exception as exc:
                factorizations[key] = exc
        records.append(
            explain_item(
                context.task_name,
                context.task,
                explainer_name,
                explainer,
                context.metrics,
                item.example,
                factorizations[key],
                repeat,
                item.target,
                seed,
            )
        )
    return records
