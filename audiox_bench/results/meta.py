"""Which metric to trust: a meta-evaluation of the metrics on tasks whose truth is planted.

Each criterion compares the explainer rankings a metric gives (explainers ordered by their mean value over
the instances every one of them has, read in the metric's direction), per task and kind of component
(sources with sources, segments with segments, as the leaderboard compares them):

- **truth agreement**: Kendall's tau-b between the metric's ranking and the planted truth's (top-k overlap),
  with a percentile bootstrap interval over instances. The reference metric itself is 1 by construction,
  and the other localisation scores read the same truth, so theirs is agreement between readings of one
  truth; for the model-based metrics (faithfulness, perturbation curves, mask fidelity) it is the question.
- **controls below**: the share of the run's explainers the metric ranks above every control (random,
  energy, shuffled: explainers that know nothing of the model, or of where its evidence is).
- **noise resilience** (MetaQuantus, Hedström et al., TMLR 2023: a metric's ranking should stay put
  under a minor perturbation): Kendall's tau between the rankings on the recorded weights and on weights
  with a little noise added (engine/rescore.py's ``Perturbation``).
- **adversarial reactivity** (ibid.: it should move under a disruptive one): the share of instances of the
  non-control explainers whose value gets worse when the weights are permuted over the components.
- **setting agreement**: the smallest Kendall's tau between the rankings under the run's setting and under
  each alternative the metric's paper leaves open (baseline, subset size, order, sign, overlap).

Instances where a metric is undefined for every explainer (no truth there) are left out first; an explainer
is ranked on a metric when it has a value on ``MIN_COVERAGE`` of the rest, over the instances all the
ranked explainers have.

The perturbations act on the explanations, not on the model or its input (MetaQuantus perturbs both and
explains again): a metric is read here for what it makes of a given explanation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from audiox_bench.core import registry
from audiox_bench.results.figures import pyplot
from audiox_bench.results.ranking import is_control
from audiox_bench.results.tables import FAMILY_NAMES

ORIGINAL, MINOR, DISRUPTIVE = "original", "minor", "disruptive"  # the explanations' variants
REFERENCE = "topk_overlap"  # the planted truth's own score
CRITERIA = ("truth agreement", "controls below", "noise resilience", "adversarial reactivity", "setting agreement")
MIN_COVERAGE = 0.8  # an explainer is ranked on a metric when it has a value on this share of the instances
N_BOOTSTRAP = 1000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class MetaRow:
    """One criterion of one metric on one task.

    Attributes
    ----------
    task, family, metric, criterion : str
        ``family`` is the kind of components compared (sources, segments).
    value : float
        NaN where it cannot be measured (see ``note``).
    low, high : float
        Its bootstrap interval (truth agreement only; NaN otherwise).
    n_explainers, n_instances : int
        What it was measured on.
    note : str
    """

    task: str
    family: str
    metric: str
    criterion: str
    value: float
    low: float = float("nan")
    high: float = float("nan")
    n_explainers: int = 0
    n_instances: int = 0
    note: str = ""


def higher_is_better(setting: str) -> bool:
    """The direction of a metric setting's main value (``deletion:order=lerf`` reverses deletion's)."""
    return bool(registry.metrics.resolve(setting).obj.higher_is_better)


def value_table(values: pd.DataFrame, setting: str, variant: str) -> pd.DataFrame:
    """Instances x explainers of one setting and variant, read so that higher is better, restricted to the
    explainers defined on ``MIN_COVERAGE`` of the instances and then to the instances all of them have."""
    chosen = values[(values.setting == setting) & (values.variant == variant)]
    table = chosen.pivot_table(index="example", columns="explainer", values="value", aggfunc="first", dropna=False)
    table = table.dropna(how="all")  # instances where the metric is undefined for all (no truth there)
    table = table.loc[:, table.notna().mean() >= MIN_COVERAGE].dropna()
    return table if higher_is_better(setting) else -table


def kendall(a: pd.Series, b: pd.Series) -> float:
    """Kendall's tau-b of two explainer rankings (means), over the explainers both have; NaN when either
    is constant or fewer than 3 explainers are shared."""
    shared = a.index.intersection(b.index)
    if len(shared) < 3 or a[shared].nunique() < 2 or b[shared].nunique() < 2:
        return float("nan")
    return float(stats.kendalltau(a[shared], b[shared]).statistic)


def truth_agreement(metric: pd.DataFrame, truth: pd.DataFrame, seed: int = 0) -> tuple[float, float, float, int, int]:
    """Kendall's tau between the explainer rankings of ``metric`` and ``truth`` (instances x explainers,
    higher is better), over the instances and explainers both have, with a percentile bootstrap interval
    over instances.

    Returns
    -------
    tau, low, high : float
    n_explainers, n_instances : int
    """
    examples = metric.index.intersection(truth.index)
    explainers = metric.columns.intersection(truth.columns)
    a, b = metric.loc[examples, explainers].to_numpy(), truth.loc[examples, explainers].to_numpy()
    tau = kendall(pd.Series(a.mean(axis=0)), pd.Series(b.mean(axis=0))) if len(examples) else float("nan")
    if np.isnan(tau):
        return tau, float("nan"), float("nan"), len(explainers), len(examples)
    rng = np.random.default_rng(seed)
    taus = []
    for _ in range(N_BOOTSTRAP):
        rows = rng.integers(0, len(examples), len(examples))
        taus.append(kendall(pd.Series(a[rows].mean(axis=0)), pd.Series(b[rows].mean(axis=0))))
    taus = np.asarray(taus)
    taus = taus[~np.isnan(taus)]
    tail = (1 - CONFIDENCE) / 2
    low, high = np.quantile(taus, [tail, 1 - tail]) if len(taus) else (np.nan, np.nan)
    return tau, float(low), float(high), len(explainers), len(examples)


def controls_below(table: pd.DataFrame) -> tuple[float, int]:
    """The share of non-control explainers whose mean is above every control's, and how many there are."""
    means = table.mean()
    controls = [e for e in means.index if is_control(e)]
    others = [e for e in means.index if not is_control(e)]
    if not controls or not others:
        return float("nan"), len(others)
    return float((means[others] > means[controls].max()).mean()), len(others)


def reactivity(original: pd.DataFrame, disrupted: pd.DataFrame) -> tuple[float, int]:
    """The share of (non-control explainer, instance) values that get worse under the disruptive
    perturbation, over the pairs defined in both, and how many pairs."""
    explainers = [e for e in original.columns.intersection(disrupted.columns) if not is_control(e)]
    examples = original.index.intersection(disrupted.index)
    a, b = original.loc[examples, explainers].to_numpy(), disrupted.loc[examples, explainers].to_numpy()
    if a.size == 0:
        return float("nan"), 0
    return float((b < a - 1e-12).mean()), int(a.size)


def evaluate(values: pd.DataFrame, seed: int = 0) -> list[MetaRow]:
    """Every criterion of every metric on every task of ``values`` (the frame
    :func:`~audiox_bench.engine.rescore.rescore` returns)."""
    rows: list[MetaRow] = []
    if "family" not in values.columns:
        values = values.assign(family="")
    for (task, family), on_task in values.groupby(["task", "family"], sort=True):
        truth = value_table(on_task, REFERENCE, ORIGINAL) if REFERENCE in set(on_task.metric) else None
        truth = None if truth is None or truth.empty else truth
        for metric, of_metric in on_task.groupby("metric", sort=True):
            rows.extend(
                _metric_rows((str(task), FAMILY_NAMES.get(family, family)), str(metric), of_metric, truth, seed)
            )
    return rows


def _metric_rows(
    where: tuple[str, str], metric: str, values: pd.DataFrame, truth: pd.DataFrame | None, seed: int
) -> list[MetaRow]:
    """The criteria of one metric where ``where`` = (task, family)."""
    settings = list(dict.fromkeys(values.setting))
    main = settings[0]  # the run's own setting comes first
    original = value_table(values, main, ORIGINAL)
    n_e, n_i = original.shape[1], original.shape[0]
    rows = []
    if truth is None:
        rows.append(
            MetaRow(*where, metric, CRITERIA[0], float("nan"), note="the task states no truth for these components")
        )
    else:
        tau, low, high, n_te, n_ti = truth_agreement(original, truth, seed)
        note = "the reference (1 by construction)" if metric == REFERENCE else ""
        if n_ti == 0:
            note = "no instance where every explainer has both values"
        rows.append(MetaRow(*where, metric, CRITERIA[0], tau, low, high, n_te, n_ti, note))
    share, n_others = controls_below(original)
    rows.append(MetaRow(*where, metric, CRITERIA[1], share, n_explainers=n_others, n_instances=n_i))
    minor = value_table(values, main, MINOR)
    rows.append(
        MetaRow(*where, metric, CRITERIA[2], kendall(original.mean(), minor.mean()), n_explainers=n_e, n_instances=n_i)
    )
    share, n_pairs = reactivity(original, value_table(values, main, DISRUPTIVE))
    rows.append(MetaRow(*where, metric, CRITERIA[3], share, n_explainers=n_e, n_instances=n_i, note=f"{n_pairs} pairs"))
    if len(settings) > 1:
        taus = {s: kendall(original.mean(), value_table(values, s, ORIGINAL).mean()) for s in settings[1:]}
        worst = min(taus, key=lambda s: np.inf if np.isnan(taus[s]) else taus[s])
        detail = "; ".join(f"{s}: {t:.2f}" for s, t in taus.items())
        rows.append(MetaRow(*where, metric, CRITERIA[4], taus[worst], n_explainers=n_e, n_instances=n_i, note=detail))
    else:
        rows.append(MetaRow(*where, metric, CRITERIA[4], float("nan"), note="no setting left open"))
    return rows


def meta_frame(rows: Sequence[MetaRow]) -> pd.DataFrame:
    """The rows as ``meta.csv`` holds them."""
    return pd.DataFrame([asdict(r) for r in rows], columns=list(MetaRow.__dataclass_fields__))


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Metric x criterion: the mean over tasks and kinds of component (the README's table)."""
    table = frame.pivot_table(index="metric", columns="criterion", values="value", aggfunc="mean")
    return table.reindex(columns=[c for c in CRITERIA if c in table.columns])


def heatmap(frame: pd.DataFrame, png: Path) -> bool:
    """Metric x criterion per task, as ``png``; False when matplotlib is not installed."""
    plt = pyplot()
    if plt is None:
        return False
    panels = sorted(set(zip(frame.task, frame.family)))
    metrics = sorted(set(frame.metric))
    fig, axes = plt.subplots(
        1, len(panels), figsize=(3.2 * len(panels) + 1.5, 0.42 * len(metrics) + 1.8), squeeze=False
    )
    for ax, (task, family) in zip(axes[0], panels):
        chosen = frame[(frame.task == task) & (frame.family == family)]
        cells = chosen.pivot_table(index="metric", columns="criterion", values="value", dropna=False)
        cells = cells.reindex(index=metrics, columns=list(CRITERIA))
        ax.imshow(cells.to_numpy(dtype=float), cmap="RdYlGn", vmin=-1, vmax=1, aspect="auto")
        for (i, j), value in np.ndenumerate(cells.to_numpy(dtype=float)):
            ax.text(j, i, "" if np.isnan(value) else f"{value:.2f}", ha="center", va="center", fontsize=7)
        ax.set_xticks(range(len(CRITERIA)), [c.replace(" ", "\n") for c in CRITERIA], fontsize=7)
        ax.set_yticks(range(len(metrics)), metrics if ax is axes[0][0] else [""] * len(metrics), fontsize=8)
        ax.set_title(f"{task}, {family}" if family else task, fontsize=9)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=120, metadata={"Software": None})
    plt.close(fig)
    return True


def write_meta(values: pd.DataFrame, out: Path, seed: int = 0) -> dict[str, Any]:
    """``meta.csv``, ``meta_values.csv.gz`` (the rescored values it reads) and ``meta.png`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    frame = meta_frame(evaluate(values, seed))
    frame.to_csv(out / "meta.csv", index=False, float_format="%.4g")
    values.to_csv(out / "meta_values.csv.gz", index=False, float_format="%.17g")
    drew = heatmap(frame, out / "meta.png")
    return {"frame": frame, "summary": summary(frame), "figure": drew}


def read_values(path: Path, families: Mapping[str, str]) -> pd.DataFrame:
    """The rescored values ``write_meta`` wrote (``meta_values.csv.gz``); a family column is added from the
    run's ``families`` where the file has none."""
    values = pd.read_csv(path, dtype={"example": str, "family": str}, keep_default_na=False, na_values={"value": [""]})
    if "family" not in values.columns:
        values.insert(2, "family", values.explainer.map(lambda e: families.get(e, "")))
    return values
