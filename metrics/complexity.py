"""How concentrated an explanation is: sparseness (the Gini index of |w|, Chalasani et al., ICML 2020,
Sec. 5) and complexity (the entropy of |w| / sum |w|, Bhatt, Weller, Moura, IJCAI 2020, Sec. 3.2).

Both are **diagnostics**, not ranked: a concentrated explanation is easier to read, but not more right.
An explanation that puts all its weight on a wrong component is as sparse as one that puts it on the
truth, and the truth may be several components (the vocals task's 3 injected segments). A benchmark that
ranked sparseness would reward confident mistakes; the page shows them beside the scores instead.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from audiox_bench.core.data import MetricInput, Scores, ValueSpec
from audiox_bench.core.errors import NotApplicableError
from audiox_bench.core.interfaces import Metric


def gini(weights: np.ndarray) -> float:
    """The Gini index of |w| (0: all equal; (d - 1) / d: one component holds everything)."""
    values = np.sort(np.abs(np.asarray(weights, dtype=np.float64)))
    d = len(values)
    ranks = np.arange(1, d + 1)
    return float(np.sum((2 * ranks - d - 1) * values) / (d * values.sum()))


def weight_entropy(weights: np.ndarray) -> float:
    """The entropy (nats) of |w| / sum |w| (0: one component; log d: all equal)."""
    return float(stats.entropy(np.abs(np.asarray(weights, dtype=np.float64))))


class _Concentration(Metric):
    """A diagnostic of one explanation's weights (see the module)."""

    def value_spec(self, value: str) -> ValueSpec:
        return ValueSpec(value, "diagnostic", self.higher_is_better)

    def _weights(self, item: MetricInput) -> np.ndarray:
        weights = np.asarray(item.explanation.weights, dtype=np.float64)
        if not np.any(weights):
            raise NotApplicableError("every weight is 0: no distribution of weight to measure")
        return weights


class Sparseness(_Concentration):
    """The Gini index of |w| (Chalasani et al. 2020, Sec. 5; Quantus' Sparseness): a diagnostic."""

    name = "sparseness"
    higher_is_better = True
    description = "Gini index of |weights| (a diagnostic: concentrated is not the same as right)"

    def score(self, item: MetricInput) -> Scores:
        return Scores({self.name: gini(self._weights(item))})


class Complexity(_Concentration):
    """The entropy of |w| / sum |w| (Bhatt et al. 2020, Sec. 3.2; Quantus' Complexity): a diagnostic."""

    name = "complexity"
    higher_is_better = False
    description = "entropy of |weights| / sum |weights| (a diagnostic: simple is not the same as right)"

    def score(self, item: MetricInput) -> Scores:
        return Scores({self.name: weight_entropy(self._weights(item))})
