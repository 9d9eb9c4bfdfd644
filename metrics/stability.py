"""Stability U_n and content agreement (Mishra, Benetos, Sturm, Dixon 2020, Sec. V, Figs. 3-7).

Both compare the top-k components of several explanations of one instance, read from the run's records;
a component's rank is by the magnitude of its weight, positive or negative, as in the paper (Sec. IV):

- ``stability``: the explainer run ``repeats`` times with different seeds; U_n is the number of unique
  components among the pooled top-k lists (k when every repeat agrees, up to k x repeats).
- ``content_agreement``: N_ce between an explanation and the same explainer's explanation with a
  reference occlusion content (default ``zero``), same example and seed (Fig. 6).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from audiox_bench.core import registry
from audiox_bench.core.data import Figure
from audiox_bench.core.interfaces import GroupMetric
from audiox_bench.core.records import GroupRow, Record
from audiox_bench.core.spec import Spec
from audiox_bench.metrics.topk import top_k
from audiox_bench.results.plots import figure_path, values_by_explainer, violins


def unique_in_top_k(rankings: Sequence[tuple[Sequence[str], Sequence[float]]], k: int) -> int:
    """U_n: unique components among the top-``k`` of each (names, weights) explanation."""
    pooled: set[str] = set()
    for names, weights in rankings:
        pooled.update(top_k(names, weights, k))
    return len(pooled)


def common_in_top_k(a: tuple[Sequence[str], Sequence[float]], b: tuple[Sequence[str], Sequence[float]], k: int) -> int:
    """N_ce between two explanations: components in both top-``k`` lists."""
    return len(set(top_k(*a, k)) & set(top_k(*b, k)))


def _ranking(record: Record) -> tuple[Sequence[str], Sequence[float]]:
    return record.components or [], record.weights or []


class Stability(GroupMetric):
    """U_n: unique components in the pooled top-k (by |weight|) of the repeats of one example (k = perfectly
    stable).

    Needs ``--repeats`` of at least 2; one value per (task, explainer, example).

    Parameters
    ----------
    k : int
        Length of each top list (3 in the paper).
    """

    name = "stability"
    higher_is_better = False
    description = "U_n: unique components in the top-k by |weight| of repeated explanations (k = perfectly stable)"

    def __init__(self, k: int = 3) -> None:
        if k < 1:
            raise ValueError("k must be at least 1")
        self.k = int(k)

    def score_records(self, records: Sequence[Record]) -> list[GroupRow]:
        groups: dict[tuple[str, str, str], list[Record]] = defaultdict(list)
        for record in records:
            groups[(record.task, record.explainer, record.example_id)].append(record)
        rows = []
        for (task, explainer, example_id), group in sorted(groups.items()):
            group = sorted(group, key=lambda r: r.repeat)
            value = unique_in_top_k([_ranking(r) for r in group], self.k) if len(group) >= 2 else None
            rows.append(GroupRow(task, explainer, example_id, None, {self.name: value}))
        return rows

    def plot(
        self, plt: Any, task: str, records: Sequence[Record], group_rows: Sequence[GroupRow], out: Path
    ) -> list[Figure]:
        """``stability_<task>.png``: U_n violins per configuration (Mishra et al. 2020, Figs. 3 and 5)."""
        values = values_by_explainer(group_rows, self.name)
        if not values:
            return [Figure(f"stability ({task})", skipped="U_n needs --repeats 2 or more")]
        path = violins(
            plt,
            values,
            f"U_n: unique components in the repeats' top-{self.k}",
            f"{task}: stability per configuration (lower is more stable)",
            figure_path(out, "stability", task),
        )
        return [Figure(f"stability ({task})", path)]


class ContentAgreement(GroupMetric):
    """N_ce between the top-k (by |weight|) of an explanation and of the same explainer's with a reference
    occlusion content.

    Applies to explainers with a ``content`` parameter (SLIME); the reference configuration is added
    to the run automatically. Reports ``content_agreement`` (N_ce / k) and ``content_agreement.n_ce``.

    Parameters
    ----------
    reference : str
        The reference content (``zero`` in the paper's Fig. 6).
    k : int
        Length of the top lists compared.
    """

    name = "content_agreement"
    higher_is_better = True
    description = "share of the top-k by |weight| shared with the same explainer using the reference content (zero)"
    value_roles = (("n_ce", "diagnostic"),)

    def __init__(self, reference: str = "zero", k: int = 3) -> None:
        if k < 1:
            raise ValueError("k must be at least 1")
        registry.contents.get(reference)  # an unknown content fails now, with a hint
        self.reference, self.k = reference, int(k)

    def _reference_of(self, explainer_spec: str) -> str | None:
        """Canonical SPEC of the reference configuration, or None if the explainer has no content
        parameter or already uses the reference."""
        resolved = registry.explainers.resolve(explainer_spec)
        if "content" not in resolved.params:
            return None
        reference = registry.explainers.resolve(Spec(resolved.name, {**resolved.params, "content": self.reference}))
        return None if reference.canonical == resolved.canonical else reference.canonical

    def companions(self, explainer_spec: str) -> list[str]:
        reference = self._reference_of(explainer_spec)
        return [] if reference is None else [reference]

    def score_records(self, records: Sequence[Record]) -> list[GroupRow]:
        index = {r.key: r for r in records}
        references = {name: self._reference_of(name) for name in {r.explainer for r in records}}
        rows = []
        for (task, explainer, example_id, repeat), record in sorted(index.items()):
            if references[explainer] is None:
                continue
            other = index.get((task, references[explainer], example_id, repeat))
            n_ce = None if other is None else common_in_top_k(_ranking(record), _ranking(other), self.k)
            rows.append(
                GroupRow(
                    task,
                    explainer,
                    example_id,
                    repeat,
                    {self.name: None if n_ce is None else n_ce / self.k, f"{self.name}.n_ce": n_ce},
                )
            )
        return rows
