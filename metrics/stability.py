"""Stability U_n and content agreement (Mishra, Benetos, Sturm, Dixon 2020, Sec. V, Figs. 3-7).

Both compare the top-k components of several explanations of one instance, read from the run's records:

- ``stability``: the explainer run ``repeats`` times with different seeds; U_n is the number of unique
  components among the pooled top-k lists (k when every repeat agrees, up to k x repeats).
- ``content_agreement``: N_ce between an explanation and the same explainer's explanation with a
  reference occlusion content (default ``zero``), same example and seed (Fig. 6).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from audiox_bench.metrics.topk import top_k

from audiox_bench.core import registry
from audiox_bench.core.contracts import GroupMetric
from audiox_bench.core.registry import metrics
from audiox_bench.core.spec import Spec, parse_spec


def unique_in_top_k(rankings: Sequence[tuple[Sequence[str], Sequence[float]]], k: int) -> int:
    """U_n: unique components among the top-``k`` of each (names, weights) explanation."""
    pooled: set[str] = set()
    for names, weights in rankings:
        pooled.update(top_k(names, weights, k))
    return len(pooled)


def common_in_top_k(a: tuple[Sequence[str], Sequence[float]], b: tuple[Sequence[str], Sequence[float]], k: int) -> int:
    """N_ce between two explanations: components in both top-``k`` lists."""
    return len(set(top_k(*a, k)) & set(top_k(*b, k)))


def _ranking(record: Mapping[str, Any]) -> tuple[Sequence[str], Sequence[float]]:
    return record["components"], record["weights"]


@metrics.register("stability")
class Stability(GroupMetric):
    """U_n: unique components in the pooled top-k of the repeats of one example (k = perfectly stable).

    Needs ``--repeats`` of at least 2; one value per (task, explainer, example).

    Parameters
    ----------
    k : int
        Length of each top list (3 in the paper).
    """

    name = "stability"
    higher_is_better = False
    description = "U_n: unique components in the top-k of repeated explanations (k = perfectly stable)"

    def __init__(self, k: int = 3) -> None:
        if k < 1:
            raise ValueError("k must be at least 1")
        self.k = int(k)

    def score_records(self, records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        groups: dict[tuple[str, str, str], list[Mapping[str, Any]]] = defaultdict(list)
        for record in records:
            groups[(record["task"], record["explainer"], record["example_id"])].append(record)
        rows = []
        for (task, explainer, example_id), group in sorted(groups.items()):
            group = sorted(group, key=lambda r: int(r["repeat"]))
            value = unique_in_top_k([_ranking(r) for r in group], self.k) if len(group) >= 2 else None
            rows.append({"task": task, "explainer": explainer, "example_id": example_id, "repeat": None,
                         "metrics": {self.name: value}})
        return rows


@metrics.register("content_agreement")
class ContentAgreement(GroupMetric):
    """N_ce between an explanation and the same explainer's with a reference occlusion content.

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
    description = "share of the top-k shared with the same explainer using the reference content (zero)"

    def __init__(self, reference: str = "zero", k: int = 3) -> None:
        if k < 1:
            raise ValueError("k must be at least 1")
        registry.contents.get(reference)  # an unknown content fails now, with a hint
        self.reference, self.k = reference, int(k)

    def _reference_of(self, explainer_spec: str) -> str | None:
        """Canonical SPEC of the reference configuration, or None if the explainer has no content
        parameter or already uses the reference."""
        spec = parse_spec(explainer_spec)
        keywords = registry.constructor_keywords(registry.explainers.get(spec.name)) or []
        if "content" not in keywords:
            return None
        reference = registry.canonical_spec(registry.explainers, Spec(spec.name, {**spec.params, "content": self.reference}))
        return None if reference == registry.canonical_spec(registry.explainers, spec) else reference

    def companions(self, explainer_spec: str) -> list[str]:
        reference = self._reference_of(explainer_spec)
        return [] if reference is None else [reference]

    def score_records(self, records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        index = {(r["task"], r["explainer"], r["example_id"], int(r["repeat"])): r for r in records}
        references = {name: self._reference_of(name) for name in {r["explainer"] for r in records}}
        rows = []
        for (task, explainer, example_id, repeat), record in sorted(index.items()):
            if references[explainer] is None:
                continue
            other = index.get((task, references[explainer], example_id, repeat))
            n_ce = None if other is None else common_in_top_k(_ranking(record), _ranking(other), self.k)
            rows.append({"task": task, "explainer": explainer, "example_id": example_id, "repeat": repeat,
                         "metrics": {self.name: None if n_ce is None else n_ce / self.k,
                                     f"{self.name}.n_ce": n_ce}})
        return rows
