"""Conformance checks for tasks, explainers and metrics: the contract, determinism under a seed,
pickling for workers, shapes, NaN handling and the not-applicable path (as scikit-learn's
``check_estimator`` does for estimators).

Each ``check_*`` function returns one :class:`CheckResult` per check and never raises for a broken
plugin: a failure is a result with a one-line message. ``audiox check --plugin FILE`` runs them on
everything the file registers; the project's own tests run them on every built-in. Explainers and
metrics are checked on a small built-in task (:data:`CHECK_TASK`, a confound model trained in seconds
and cached).
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from audiox_bench.core import registry
from audiox_bench.core.classifier import Classifier, FeatureClassifier
from audiox_bench.core.components import Component, Factorization
from audiox_bench.core.contracts import (
    Example,
    Explainer,
    Explanation,
    GroundTruth,
    GroupMetric,
    Metric,
    MetricInput,
)
from audiox_bench.core.errors import NotApplicableError
from audiox_bench.core.records import GroupRow, Record
from audiox_bench.core.task import Task, ValidityCheck
from audiox_bench.perturbation.prediction_cache import forget_predictions, prediction_cache

CHECK_TASK = "confound:n_stems=20,n_train=160,epochs=6,n_validity=40,max_attempts=1"
N_EXAMPLES = 3
SEEDS = (0, 1)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check of one registered object."""

    subject: str  # e.g. "explainer energy"
    check: str
    passed: bool
    message: str = ""

    def __str__(self) -> str:
        state = "ok  " if self.passed else "FAIL"
        return f"{state} {self.subject}: {self.check}" + ("" if self.passed else f": {self.message}")


class _Checks:
    """Collects results; a check that raises fails with the exception as its message."""

    def __init__(self, subject: str) -> None:
        self.subject, self.results = subject, []

    @contextmanager
    def check(self, name: str) -> Iterator[Callable[[bool, str], None]]:
        outcome = {"passed": True, "message": ""}

        def expect(condition: bool, message: str) -> None:
            if not condition and outcome["passed"]:
                outcome.update(passed=False, message=message)

        try:
            yield expect
        except Exception as exc:
            outcome.update(passed=False, message=f"raised {type(exc).__name__}: {exc}")
        self.results.append(CheckResult(self.subject, name, outcome["passed"], outcome["message"]))

    @property
    def failed(self) -> bool:
        return any(not r.passed for r in self.results)


class AudioOnlyClassifier(Classifier):
    """A classifier that declares no capability beyond ``predict_proba`` (the not-applicable path)."""

    def __init__(self, model: Classifier) -> None:
        self.sr, self.classes, self._model = model.sr, model.classes, model

    def predict_proba(self, audio: np.ndarray) -> np.ndarray:
        return self._model.predict_proba(audio)


_TASKS: dict[str, Task] = {}


def check_task_instance(spec: str = CHECK_TASK) -> Task:
    """The prepared task the explainer and metric checks run on (built once per process)."""
    if spec not in _TASKS:
        task = registry.tasks.build(spec)
        task.prepare(progress=False)
        _TASKS[spec] = task
    return _TASKS[spec]


def _json(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return np.array_equal(np.asarray(a, np.float64), np.asarray(b, np.float64))


def _explain(explainer: Explainer, model: Classifier, example: Example, seed: int) -> tuple[Factorization, Explanation]:
    factorization = explainer.factorize_for(model, example, seed)
    return factorization, explainer.explain(model, example, factorization, 0, seed)


def check_explainer(spec: str, task: str = CHECK_TASK) -> list[CheckResult]:
    """Check the explainer a SPEC names on ``task``: it builds, factorizes into typed components,
    returns finite weights of the right shape, is deterministic under a seed, survives pickling, and
    answers a model without the capabilities it needs with :class:`NotApplicableError`."""
    checks = _Checks(f"explainer {spec}")
    explainer: Explainer | None = None
    with checks.check("builds from its SPEC") as expect:
        explainer = registry.explainers.build(spec)
        expect(explainer.family in ("source", "segmentation", "any"), f"family is {explainer.family!r}")
    if explainer is None:
        return checks.results
    prepared = check_task_instance(task)
    model, examples = prepared.model, prepared.examples(N_EXAMPLES)
    explained: list[tuple[Example, Factorization, Explanation]] = []
    with checks.check("factorizes into typed components") as expect:
        for example in examples:
            factorization = explainer.factorize_for(model, example, SEEDS[0])
            components = factorization.components
            expect(isinstance(factorization, Factorization), f"factorize returned {type(factorization).__name__}")
            expect(
                len(components) > 0 and all(isinstance(c, Component) for c in components),
                "components must be a non-empty tuple of audiox_bench.Component",
            )
            expect(len(set(factorization.names)) == len(components), "component names must be unique")
            composed = factorization.compose(np.ones((2, len(components)), bool))
            expect(len(composed) == 2, f"compose of 2 masks returned {len(composed)} inputs")
    with checks.check("returns finite weights, one per component") as expect:
        for example in examples:
            factorization, explanation = _explain(explainer, model, example, SEEDS[0])
            expect(isinstance(explanation, Explanation), f"explain returned {type(explanation).__name__}")
            weights = np.asarray(explanation.weights, dtype=np.float64)
            expect(
                weights.shape == (factorization.n_components,),
                f"weights of shape {weights.shape}, expected ({factorization.n_components},)",
            )
            expect(bool(np.all(np.isfinite(weights))), "NaN or infinite weights")
            expect(tuple(explanation.components) == factorization.names, "components differ from the factorization's")
            expect(_json(dict(explanation.extra)), "extra is not JSON-serialisable")
            explained.append((example, factorization, explanation))
    with checks.check("is deterministic under a fixed seed") as expect:
        for example, _, first in explained[:2]:
            forget_predictions(model)
            _, again = _explain(explainer, model, example, SEEDS[0])
            expect(
                _same(first.weights, again.weights),
                f"two explanations of {example.id!r} with seed {SEEDS[0]} "
                f"differ (max |difference| {np.max(np.abs(np.subtract(first.weights, again.weights))):.3g})",
            )
    with checks.check("pickles for worker processes") as expect:
        copy = pickle.loads(pickle.dumps(explainer))
        if explained:
            example, _, first = explained[0]
            _, again = _explain(copy, model, example, SEEDS[0])
            expect(_same(first.weights, again.weights), "the unpickled explainer explains differently")
    with checks.check("is not applicable, not broken, without model capabilities") as expect:
        plain = AudioOnlyClassifier(model)
        try:
            factorization, explanation = _explain(explainer, plain, examples[0], SEEDS[0])
            expect(
                np.asarray(explanation.weights).shape == (factorization.n_components,),
                "on a predict_proba-only model: weights of the wrong shape",
            )
        except NotApplicableError:
            pass
    return checks.results


def _score(metric: Metric, item: MetricInput) -> dict[str, Any]:
    """A metric's values, with a declared "not applicable" read as an undefined main value."""
    try:
        return metric.score(item)
    except NotApplicableError:
        return dict.fromkeys(metric.value_names())


def check_metric(spec: str, task: str = CHECK_TASK, explainer: str = "audiolime") -> list[CheckResult]:
    """Check the metric a SPEC names on explanations of ``task``: it builds, declares its values,
    returns numbers or None (never NaN) for every value, is deterministic, and pickles."""
    checks = _Checks(f"metric {spec}")
    metric: Metric | GroupMetric | None = None
    with checks.check("builds from its SPEC and declares its values") as expect:
        metric = registry.metrics.build(spec)
        main = metric.value_spec(metric.name)
        expect(main.primary and main.role == "score", "its main value must be a primary score")
    if metric is None:
        return checks.results
    prepared = check_task_instance(task)
    model, examples = prepared.model, prepared.examples(N_EXAMPLES)
    built = registry.explainers.build(explainer)
    records = []
    for repeat, seed in enumerate(SEEDS):
        for example in examples:
            factorization, explanation = _explain(built, model, example, seed)
            truth = prepared.truth_for(example, factorization)
            records.append(
                (
                    MetricInput(explanation, truth, model, example, factorization, built, 0, seed),
                    Record(
                        task,
                        explainer,
                        example.id,
                        repeat,
                        seed,
                        components=list(explanation.components),
                        weights=[float(w) for w in explanation.weights],
                        ground_truth=None if truth is None else sorted(truth.components),
                    ),
                )
            )
    if isinstance(metric, Metric):
        values: list[dict[str, Any]] = []
        with checks.check("scores numbers or None, never NaN") as expect:
            for item, record in records:
                scored = _score(metric, item)
                expect(metric.name in scored, f"score() has no value named {metric.name!r}")
                for key, value in scored.items():
                    if key.startswith("_"):
                        expect(_json(value), f"data {key!r} is not JSON-serialisable")
                    else:
                        expect(
                            value is None or (isinstance(value, int | float | np.number) and np.isfinite(value)),
                            f"value {key!r} is {value!r} (use None where it is undefined)",
                        )
                record.metrics = {k: v for k, v in scored.items() if not k.startswith("_")}
                record.metric_data = {k: v for k, v in scored.items() if k.startswith("_")}
                values.append(scored)
        with checks.check("is deterministic") as expect:
            item = records[0][0]
            expect(
                json.dumps(_score(metric, item), sort_keys=True, default=str)
                == json.dumps(values[0] if values else {}, sort_keys=True, default=str),
                "two scores of the same explanation differ",
            )
        with checks.check("summarizes into group rows") as expect:
            rows = metric.summarize([record for _, record in records])
            expect(all(isinstance(r, GroupRow) for r in rows), "summarize() must return GroupRow objects")
    else:
        with checks.check("scores records into group rows") as expect:
            rows = metric.score_records([record for _, record in records])
            expect(all(isinstance(r, GroupRow) for r in rows), "score_records() must return GroupRow objects")
            expect(rows == metric.score_records([record for _, record in records]), "two scorings differ")
    with checks.check("pickles for worker processes") as expect:
        copy = pickle.loads(pickle.dumps(metric))
        expect(type(copy) is type(metric), "the unpickled metric has another type")
    return checks.results


def check_task(spec: str) -> list[CheckResult]:
    """Check the task a SPEC names: it builds and prepares a classifier with validity checks and a
    JSON model card, serves the same examples every time, states truth only in a factorization's own
    component names, and pickles with its model."""
    checks = _Checks(f"task {spec}")
    task: Task | None = None
    with checks.check("builds and prepares its model") as expect:
        built = registry.tasks.build(spec)
        built.prepare(progress=False)
        expect(isinstance(built.model, Classifier), "model is not an audiox_bench.Classifier")
        expect(
            all(isinstance(c, ValidityCheck) for c in built.validity_checks), "validity_checks must be ValidityChecks"
        )
        expect(_json(built.model_card), "the model card is not JSON-serialisable")
        task = built
    if task is None:
        return checks.results
    examples: list[Example] = []
    with checks.check("serves examples deterministically") as expect:
        examples = task.examples(N_EXAMPLES)
        again = task.examples(N_EXAMPLES)
        expect(len(examples) > 0, "no examples")
        expect(len({e.id for e in examples}) == len(examples), "example ids are not unique")
        expect([e.id for e in examples] == [e.id for e in again], "two calls serve different examples")
        expect(all(np.array_equal(a.audio, b.audio) for a, b in zip(examples, again)), "audio differs between calls")
        for example in examples:
            audio = np.asarray(example.audio)
            expect(
                audio.ndim == 1 and audio.size > 0 and bool(np.all(np.isfinite(audio))),
                f"example {example.id!r}: audio must be finite, 1-D and non-empty",
            )
            expect(
                example.sr == task.model.sr,
                f"example {example.id!r} is at {example.sr} Hz, the model at {task.model.sr}",
            )
    with checks.check("states truth in the factorization's component names") as expect:
        for name in ("audiolime", "slime"):
            explainer = registry.explainers.build(name)
            for example in examples:
                try:
                    factorization = explainer.factorize(task.model, example)
                except NotApplicableError:
                    continue
                truth = task.truth_for(example, factorization)
                expect(truth is None or isinstance(truth, GroundTruth), f"truth_for returned {type(truth).__name__}")
                if isinstance(truth, GroundTruth):
                    unknown = set(truth.components) - set(factorization.names)
                    expect(not unknown, f"truth names components the {name} factorization lacks: {sorted(unknown)}")
    with checks.check("pickles with its model for worker processes") as expect:
        copy = pickle.loads(pickle.dumps(task))
        if examples:
            audio = np.stack([e.audio for e in examples])
            expect(
                _same(copy.model.predict_proba(audio), task.model.predict_proba(audio)),
                "the unpickled task's model predicts differently",
            )
    return checks.results


def check_model(name: str) -> list[CheckResult]:
    """Check the model registered as ``name``: it builds a Classifier whose probabilities have one
    column per class and lie in [0, 1] (rows summing to 1 unless multi-label), are deterministic, agree
    with its features path where it declares one, and survive pickling."""
    checks = _Checks(f"model {name}")
    model: Classifier | None = None
    with checks.check("builds a Classifier") as expect:
        built = registry.models.build(name)
        expect(built.sr > 0 and len(built.classes) > 0, "sr and classes must be set")
        expect(len(set(built.classes)) == len(built.classes), "class names must be unique")
        model = built
    if model is None:
        return checks.results
    length = model.input_samples or 2 * model.sr
    audio = (0.1 * np.random.default_rng(0).standard_normal((3, length))).astype(np.float32)
    probabilities = np.zeros(0)
    with checks.check("gives probabilities per class") as expect:
        probabilities = np.asarray(model.predict_proba(audio))
        expect(
            probabilities.shape == (3, len(model.classes)),
            f"probabilities of shape {probabilities.shape}, expected (3, {len(model.classes)})",
        )
        expect(
            bool(np.all(np.isfinite(probabilities))) and probabilities.min() >= 0 and probabilities.max() <= 1,
            "probabilities must be finite and in [0, 1]",
        )
        if not model.multi_label:
            expect(np.allclose(probabilities.sum(axis=1), 1, atol=1e-4), "rows must sum to 1 (or multi_label)")
    with checks.check("is deterministic") as expect:
        expect(_same(model.predict_proba(audio), probabilities), "two predictions of the same audio differ")
    with checks.check("agrees with its features path") as expect:
        if isinstance(model, FeatureClassifier):
            through = model.predict_features(model.features(audio))
            expect(
                np.allclose(through, probabilities, atol=1e-5),
                "predict_features(features(audio)) differs from predict_proba(audio)",
            )
    with checks.check("pickles for worker processes") as expect:
        expect(
            _same(pickle.loads(pickle.dumps(model)).predict_proba(audio), probabilities),
            "the unpickled model predicts differently",
        )
    return checks.results


def check_plugin(target: str, task: str = CHECK_TASK) -> list[CheckResult]:
    """Load a plugin (a ``.py`` file or a module) and check every task, explainer and metric it registers
    (explainers and metrics on ``task``).

    Raises
    ------
    AudioxError
        If the plugin cannot be loaded (one line, as ``--plugin``).
    """
    checkers: dict[str, Callable[[str], list[CheckResult]]] = {
        "models": check_model,
        "tasks": check_task,
        "explainers": lambda name: check_explainer(name, task),
        "metrics": lambda name: check_metric(name, task),
    }
    before = {kind: set(registry.REGISTRIES[kind].names()) for kind in checkers}
    registry.load_plugin(target)
    results = []
    for kind, checker in checkers.items():
        for name in sorted(set(registry.REGISTRIES[kind].names()) - before[kind]):
            results += checker(name)
    if not results:
        results.append(
            CheckResult(
                f"plugin {target}",
                "registers a model, task, explainer or metric",
                False,
                "it registers nothing (use @audiox_bench.register_explainer and friends)",
            )
        )
    return results


def component_mask_model(model: Classifier, factorization: Factorization) -> Any:
    """A torch module (in eval mode) from masks over the components ``(n, 1, d)`` (or ``(n, d)``; > 0.5 is
    on) to the model's probabilities, through the shared prediction path: the view of an explanation that
    tools working on a model's input (Quantus, Captum) need to check our metrics on the same components.
    """
    import torch

    d = factorization.n_components

    class ComponentMasks(torch.nn.Module):
        def forward(self, masks: torch.Tensor) -> torch.Tensor:
            binary = masks.detach().cpu().numpy().reshape(len(masks), d) > 0.5
            probabilities, _ = prediction_cache(model).predict(model, factorization, binary)
            return torch.from_numpy(probabilities)

    return ComponentMasks().eval()


def faithfulness_with_quantus(
    item: MetricInput, target: int, n_runs: int = 50, subset_size: int = 3
) -> tuple[float, float]:
    """Quantus' FaithfulnessCorrelation and ours on the same subsets of ``item``'s components.

    Quantus runs on :func:`component_mask_model` (input: all components on; baseline: off) and draws its
    subsets from numpy's global generator, seeded with ``item.seed``; replaying that generator gives the
    same subsets to :func:`faithfulness_of_subsets`. Needs ``quantus`` (the test extra).

    Returns
    -------
    (quantus, ours) : tuple of float
    """
    import quantus

    from audiox_bench.metrics.faithfulness import faithfulness_of_subsets

    d = item.factorization.n_components
    state = np.random.get_state()
    try:
        np.random.seed(item.seed)
        theirs = quantus.FaithfulnessCorrelation(
            nr_runs=n_runs,
            subset_size=subset_size,
            perturb_baseline=0.0,
            abs=False,
            normalise=False,
            return_aggregate=False,
            disable_warnings=True,
        )(
            model=component_mask_model(item.model, item.factorization),
            x_batch=np.ones((1, 1, d), np.float32),  # (batch, channel, components)
            y_batch=np.array([target]),
            a_batch=item.explanation.weights[None, None].astype(np.float32),
            softmax=False,
            device="cpu",
        )[0]
        np.random.seed(item.seed)
        subsets = np.zeros((n_runs, d), bool)
        for row in subsets:
            row[np.random.choice(d, subset_size, replace=False)] = True
    finally:
        np.random.set_state(state)
    return float(theirs), float(faithfulness_of_subsets(item, subsets))
