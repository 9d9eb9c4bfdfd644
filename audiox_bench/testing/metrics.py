"""The checks of a metric: it builds and declares its values, scores numbers or None (never NaN), is
deterministic, summarizes into group rows, and pickles."""

from __future__ import annotations

import pickle

import numpy as np

from audiox_bench.core.data import MetricInput, Scores
from audiox_bench.core.errors import NotApplicableError
from audiox_bench.core.interfaces import GroupMetric, Metric
from audiox_bench.core.records import GroupRow
from audiox_bench.testing.subject import Check, Subject, expect, is_json


# -- metrics --------------------------------------------------------------------------------------
def _score(metric: Metric, item: MetricInput) -> Scores:
    """A metric's scores, with a declared "not applicable" read as undefined values."""
    try:
        return Scores.of(metric.score(item))
    except NotApplicableError:
        return Scores(dict.fromkeys(metric.value_names()))


def _metric_builds(s: Subject) -> None:
    expect(isinstance(s.obj, Metric | GroupMetric), f"built a {type(s.obj).__name__}")
    main = s.obj.value_spec(s.obj.name)
    expect(
        main.role in ("score", "diagnostic"),
        f"its main value is declared {main.role!r}: a score (ranked) or a diagnostic (shown, not ranked)",
    )


def _metric_values(s: Subject) -> None:
    if not isinstance(s.obj, Metric):
        return
    for item, record in s.metric_inputs:
        scores = _score(s.obj, item)
        expect(s.obj.name in scores, f"score() has no value named {s.obj.name!r}")
        for key, value in scores.values.items():
            expect(
                value is None or (isinstance(value, int | float | np.number) and np.isfinite(value)),
                f"value {key!r} is {value!r} (use None where it is undefined)",
            )
        expect(is_json(dict(scores.data)), "its data is not JSON-serialisable")
        record.metrics, record.metric_data = dict(scores.values), dict(scores.data)


def _metric_deterministic(s: Subject) -> None:
    records = [record for _, record in s.metric_inputs]
    if isinstance(s.obj, GroupMetric):
        expect(s.obj.score_records(records) == s.obj.score_records(records), "two scorings differ")
        return
    item = s.metric_inputs[0][0]
    first, again = _score(s.obj, item), _score(s.obj, item)
    expect(first.values == again.values and first.data == again.data, "two scores of the same explanation differ")


def _metric_group_rows(s: Subject) -> None:
    _metric_values(s)  # the records carry the metric's values before it summarizes them
    records = [record for _, record in s.metric_inputs]
    rows = s.obj.score_records(records) if isinstance(s.obj, GroupMetric) else s.obj.summarize(records)
    expect(all(isinstance(r, GroupRow) for r in rows), "group rows must be audiox_bench.GroupRow objects")


def _metric_pickles(s: Subject) -> None:
    expect(type(pickle.loads(pickle.dumps(s.obj))) is type(s.obj), "the unpickled metric has another type")


METRIC_CHECKS: list[Check] = [
    ("builds from its SPEC and declares its values", _metric_builds),
    ("scores numbers or None, never NaN", _metric_values),
    ("is deterministic", _metric_deterministic),
    ("summarizes into group rows", _metric_group_rows),
    ("pickles for worker processes", _metric_pickles),
]
