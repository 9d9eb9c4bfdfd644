"""Run records: one :class:`Record` per task x explainer x example x repeat, and :class:`GroupRow` values
of metrics over several records. Written and read here only (as JSON lines), so every other module
uses attributes, never string keys.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

RecordKey = tuple[str, str, str, int]


def json_float(value: Any) -> float | None:
    """A float for JSON: None for None, NaN and infinities."""
    if value is None:
        return None
    value = float(value)
    return value if value == value and abs(value) != float("inf") else None


@dataclass
class Record:
    """One explanation and its metric values (or why there is none).

    Attributes
    ----------
    task, explainer : str
        Canonical SPECs.
    example_id : str
    repeat : int
    seed : int
        The explanation's seed (shared by every explainer configuration on this instance).
    target, target_name : int, str
        The class explained.
    label : int or None
        The example's true class, if known.
    components, weights : list or None
        The explanation (None when it failed or did not apply).
    intercept, surrogate_r2 : float or None
        The local surrogate's intercept and weighted R^2, for explainers that fit one.
    n_model_calls : int
        Model inputs this explanation needed (cache hits included: see ``n_cache_hits``).
    n_cache_hits : int
        Of those, how many were answered by the prediction cache (evaluated earlier on this example).
    seconds : float
        Wall time of the explanation.
    ground_truth : list of str or None
        The task's truth in this factorization's names (None where it is not defined).
    metrics : dict of str to float or None
        Metric values (None: undefined for this instance).
    metric_seconds : dict of str to float
        Wall time of each per-instance metric.
    metric_notes : dict of str to str
        Why a metric is undefined for this instance (e.g. too few components for a correlation).
    metric_data : dict
        JSON data metrics keep for their dataset summaries (e.g. top-1 components).
    extra : dict
        Explainer-specific details.
    error : str or None
        Why the item failed (the run went on).
    traceback : str or None
        Where it failed, for errors that are not the user's.
    not_applicable : str or None
        Why the explainer does not apply to this item (shown as N/A, not as a failure).
    """

    task: str
    explainer: str
    example_id: str
    repeat: int
    seed: int = 0
    target: int = 0
    target_name: str = ""
    label: int | None = None
    components: list[str] | None = None
    weights: list[float] | None = None
    intercept: float | None = None
    surrogate_r2: float | None = None
    n_model_calls: int = 0
    n_cache_hits: int = 0
    seconds: float = 0.0
    ground_truth: list[str] | None = None
    metrics: dict[str, float | None] = field(default_factory=dict)
    metric_seconds: dict[str, float] = field(default_factory=dict)
    metric_notes: dict[str, str] = field(default_factory=dict)
    metric_data: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    traceback: str | None = None
    not_applicable: str | None = None

    @property
    def key(self) -> RecordKey:
        """The identity of a record: (task, explainer, example_id, repeat)."""
        return (self.task, self.explainer, self.example_id, int(self.repeat))

    @property
    def ok(self) -> bool:
        """An explanation was made (neither failed nor not applicable)."""
        return self.error is None and self.not_applicable is None

    def to_json(self) -> str:
        """One JSON line (sorted keys, no trailing newline)."""
        return json.dumps(asdict(self), sort_keys=True, allow_nan=True, default=str)

    def without_timing(self) -> dict[str, Any]:
        """The record's fields except the wall-clock ones (:data:`TIMING_FIELDS`): what a rerun with the
        same spec and seed reproduces exactly."""
        return {k: v for k, v in asdict(self).items() if k not in TIMING_FIELDS}

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Record:
        """A record from its JSON object (unknown keys are ignored, missing ones take defaults)."""
        known = {f.name for f in fields(Record)}
        values = {k: v for k, v in data.items() if k in known}
        values["repeat"] = int(values.get("repeat", 0))
        return Record(**values)


TIMING_FIELDS = ("seconds", "metric_seconds")  # wall clock: the only fields a rerun may change


@dataclass
class GroupRow:
    """Values of a metric over several records: the repeats of an example (``repeat`` None), a pair
    of configurations, or a whole dataset (``example_id`` ``"(dataset)"``)."""

    task: str
    explainer: str
    example_id: str
    repeat: int | None
    metrics: dict[str, float | None]

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, allow_nan=True, default=str)

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> GroupRow:
        return GroupRow(
            data["task"], data["explainer"], data["example_id"], data.get("repeat"), dict(data.get("metrics") or {})
        )


def parse_records(lines: bytes) -> list[Record]:
    """Records from JSON-lines bytes; a torn last line (no newline: a killed writer) is skipped."""
    records = []
    for line in lines.split(b"\n")[:-1]:
        if not line.strip():
            continue
        try:
            records.append(Record.from_dict(json.loads(line)))
        except (ValueError, TypeError, KeyError):
            continue
    return records


def parse_group_rows(text: str) -> list[GroupRow]:
    return [GroupRow.from_dict(json.loads(line)) for line in text.splitlines() if line.strip()]


def group_rows_text(rows: list[GroupRow]) -> str:
    """JSON lines of group rows, in the given order."""
    return "".join(row.to_json() + "\n" for row in rows)
