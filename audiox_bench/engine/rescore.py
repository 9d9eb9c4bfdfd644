"""Score a finished run's explanations again, under other metric settings and with their weights perturbed,
for the meta-evaluation (:mod:`audiox_bench.results.meta`).

Nothing is explained again: each record's weights are read back, its factorization is rebuilt the way the
run built it (the explainer's ``factorize_for`` with the record's seed), and its examples are checked to be
the run's, bit for bit, by their fingerprints, so the run's own settings on the recorded weights reproduce
the recorded values exactly (tested). Model inputs go through the shared prediction cache: the settings and
variants of one instance share the inputs they have in common.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from audiox_bench.core import registry
from audiox_bench.core.components import Factorization
from audiox_bench.core.data import Example, Explanation, MetricInput, Scores
from audiox_bench.core.errors import AudioxError, NotApplicableError
from audiox_bench.core.interfaces import Explainer, Metric
from audiox_bench.core.records import Record
from audiox_bench.core.task import Task
from audiox_bench.engine.against import fingerprint_difference, spec_of_plan
from audiox_bench.engine.items import item_seed, metric_input
from audiox_bench.engine.plan import Benchmark, resolve_all
from audiox_bench.engine.runner import prepare_task
from audiox_bench.results.meta import DISRUPTIVE, MINOR, ORIGINAL
from audiox_bench.results.store import read_records, read_run_info, read_validity

# Other settings of the literature's metrics: each is a choice its paper leaves open (the baseline
# switched-off components take, the subset size, the order, the sign read, the overlap a segment needs).
ALTERNATIVE_SETTINGS: Mapping[str, tuple[str, ...]] = {
    "faithfulness_correlation": ("faithfulness_correlation:baseline=mean_inp", "faithfulness_correlation:fraction=0.5"),
    "deletion": ("deletion:order=lerf", "deletion:baseline=mean_inp"),
    "insertion": ("insertion:order=lerf", "insertion:baseline=mean_inp"),
    "average_drop": ("average_drop:baseline=mean_inp",),
    "average_increase": ("average_increase:baseline=mean_inp",),
    "average_gain": ("average_gain:baseline=mean_inp",),
    "relevance_mass": ("relevance_mass:sign=abs",),
    "segment_auc": ("segment_auc:min_overlap=0.5",),
}


COLUMNS = ("task", "explainer", "family", "example", "metric", "setting", "variant", "value")


@dataclass(frozen=True)
class Perturbation:
    """How an explanation's weights are perturbed (MetaQuantus' minor and disruptive perturbations, applied to
    the explanation; Hedström et al., TMLR 2023).

    Attributes
    ----------
    noise : float
        The minor perturbation adds Gaussian noise of ``noise`` times the weights' standard deviation
        (so it swaps only components of nearly equal weight).
    """

    noise: float = 0.1

    def __post_init__(self) -> None:
        if not self.noise > 0:
            raise ValueError("noise must be > 0")

    def weights(self, variant: str, weights: np.ndarray, seed: int) -> np.ndarray:
        """``weights`` [shape=(n_components,)] under ``variant`` (original, minor or disruptive: permuted)."""
        rng = np.random.default_rng(item_seed(seed, "meta", variant))
        if variant == MINOR:
            return weights + rng.normal(0.0, self.noise * float(weights.std()), weights.shape)
        if variant == DISRUPTIVE:
            return rng.permutation(weights)
        return weights


def meta_metric_specs(run_metrics: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Per metric of the run the meta-evaluation reads (a per-instance score by name), its settings: the
    run's SPEC first, then the alternatives of :data:`ALTERNATIVE_SETTINGS`."""
    specs: dict[str, tuple[str, ...]] = {}
    for resolved in resolve_all(registry.metrics, list(run_metrics)).values():
        if not isinstance(resolved.obj, Metric) or resolved.obj.value_spec(resolved.obj.name).role != "score":
            continue
        if resolved.name in ("surrogate_fidelity", "content_agreement", "stability", "max_sensitivity"):
            continue  # they read the explainer's fit or run it again, not the weights
        specs[resolved.name] = (resolved.canonical, *ALTERNATIVE_SETTINGS.get(resolved.name, ()))
    return specs


def rescore(
    run_dir: str | Path,
    n_examples: int | None = None,
    tasks: Sequence[str] = (),
    perturbation: Perturbation = Perturbation(),
    progress: bool = True,
) -> pd.DataFrame:
    """Per record of the run (repeat 0) and metric setting, its value on the weights as recorded and as
    perturbed.

    Parameters
    ----------
    run_dir : path
        A finished run directory (read, never written).
    n_examples : int, optional
        The first this many of each task's examples (default: all of them).
    tasks : sequence of str
        Task names to read (default: every task of the run with a passed validity check).
    perturbation : Perturbation
    progress : bool

    Returns
    -------
    pd.DataFrame
        Columns task, explainer, family (the kind of components it explains with), example, metric (the
        metric's name), setting (its SPEC), variant
        (original, minor, disruptive; the alternative settings on original weights only), value (NaN where
        undefined).

    Raises
    ------
    AudioxError
        If the run's examples cannot be made again as they were (another version of the data or model).
    """
    run_dir = Path(run_dir)
    info = read_run_info(run_dir)
    plan = info.spec
    validity = read_validity(run_dir)
    records = read_records(run_dir)
    settings = meta_metric_specs(plan.metrics)
    if not settings:
        raise AudioxError(f"{str(run_dir)!r}: the run has no per-instance score the meta-evaluation reads")
    metrics = {
        spec: m.obj for spec, m in resolve_all(registry.metrics, [s for v in settings.values() for s in v]).items()
    }
    bench = Benchmark.build(spec_of_plan(plan))
    rows: list[dict] = []
    for task_spec, resolved in bench.tasks.items():
        if (
            (tasks and resolved.name not in tasks)
            or not validity.get(task_spec, None)
            or not validity[task_spec].passed
        ):
            continue
        task, made = run_examples(run_dir, bench, task_spec, validity, progress)
        examples = dict(list(made.items())[: n_examples or None])
        mine = [r for r in records if r.task == task_spec and r.example_id in examples and r.repeat == 0 and r.weights]
        for record in tqdm(mine, desc=f"meta {resolved.name}", disable=not progress, leave=False):
            explainer = bench.explainers[record.explainer].obj if record.explainer in bench.explainers else None
            if explainer is None:
                continue
            score = _scorer(task, explainer, examples[record.example_id], record)
            for variant in (ORIGINAL, MINOR, DISRUPTIVE):
                weights = perturbation.weights(variant, np.asarray(record.weights, dtype=np.float64), record.seed)
                for name, specs in settings.items():
                    for spec in specs if variant == ORIGINAL else specs[:1]:
                        rows.append(
                            {
                                "task": resolved.name,
                                "explainer": record.explainer,
                                "family": info.families.get(record.explainer, ""),
                                "example": record.example_id,
                                "metric": name,
                                "setting": spec,
                                "variant": variant,
                                "value": score(metrics[spec], weights),
                            }
                        )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def run_examples(run_dir: Path, bench: Benchmark, task_spec: str, validity, progress: bool) -> tuple[Task, dict]:
    """The prepared task of ``task_spec`` and its examples by id, made again and checked to be the run's,
    bit for bit, by their fingerprints.

    Raises
    ------
    AudioxError
        If the examples differ from the run's (another version of the data or model).
    """
    resolved = bench.tasks[task_spec]
    prepared = prepare_task(task_spec, resolved.obj, bench.spec.examples_for(resolved.name), bench.spec, progress)
    why = fingerprint_difference(prepared.validity.examples, validity[task_spec].examples)
    if why is not None:
        raise AudioxError(f"{str(run_dir)!r}: task {task_spec!r}: {why}; scoring again needs the run's examples")
    return prepared.task, {e.id: e for e in prepared.examples}


def record_input(task: Task, explainer: Explainer, example: Example, record: Record) -> MetricInput:
    """The metric input of ``record``'s explanation as the run scored it: its weights on its rebuilt
    factorization, with the task's truth, spans and baseline."""
    factorization: Factorization = explainer.factorize_for(task.model, example, record.seed)
    explanation = Explanation(
        tuple(record.components or ()),
        np.asarray(record.weights, dtype=np.float64),
        record.target,
        record.intercept,
        record.surrogate_r2,
    )
    return metric_input(task, explainer, example, factorization, explanation, record.target, record.seed)


def _scorer(
    task: Task, explainer: Explainer, example: Example, record: Record
) -> Callable[[Metric, np.ndarray], float]:
    """A function scoring ``record``'s explanation with other weights, on its rebuilt factorization."""
    item = record_input(task, explainer, example, record)

    def score(metric: Metric, weights: np.ndarray) -> float:
        try:
            value = Scores.of(metric.score(replace(item, explanation=replace(item.explanation, weights=weights))))
        except NotApplicableError:
            return float("nan")
        value = value.values.get(metric.name)
        return float("nan") if value is None else float(value)

    return score
