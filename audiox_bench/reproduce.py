"""``audiox reproduce``: the three papers' own protocols where the benchmark's differ, paper next to ours.

The benchmark scores every explainer the same way on every task; the papers each asked a narrower
question. This runs their protocols on our tasks and prints what each paper reports beside what we
measure:

- **audioLIME** (Haunschmid, Manilow, Widmer 2020, "Towards Musically Meaningful Explanations Using Source
  Separation", Sec. 4): the confounded guitar/piano classifier's accuracies, and on the *misclassified*
  ``t_dr-pno`` clips (piano with drums, called guitar) how often audioLIME puts the drums first, with the
  top-1 histograms on the trained model and on 10 fully randomized ones (the sanity check).
- **SLIME contents** (Mishra, Benetos, Sturm, Dixon 2020, Sec. V): N_ce of SLIME's top-3 against the 3
  injected segments for the five occlusion contents at N_s = 70,000 masks.
- **Veracity** (Praher, Prinz, Flexer, Widmer 2021): does the perturbation kept only inside LIME's top-3
  segments still flip the detector, next to the norm oracle (the 3 segments of most perturbation energy).

The paper column says only what the papers state (their numbers where we know them, else their finding in
words). Each protocol is an ordinary run directory under ``--out`` (resumed when run again), so every
number can be traced to its records.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audiox_bench.core.documents import TaskValidity, ValidityCheck
from audiox_bench.core.records import Record
from audiox_bench.core.spec import parse_spec
from audiox_bench.engine.run_spec import RunSpec
from audiox_bench.engine.runner import run_benchmark
from audiox_bench.metrics.randomization import js_divergence, normalised_entropy
from audiox_bench.results.formats import to_csv, to_markdown

COLUMNS = ["protocol", "quantity", "paper", "ours", "n"]
CONTENTS = ("zero", "min_data", "min_inp", "mean_inp", "noise_norm")
PAPER_ACCURACY = {"accuracy_t_dr-gtr": "0.9987", "accuracy_t_dr-pno": "0.1258"}  # audioLIME paper, Sec. 4


@dataclass(frozen=True)
class Protocol:
    """One paper's protocol: the run it needs (full and ``--quick`` sizes) and how its table is read off
    the run's records and validity."""

    name: str
    paper: str
    spec: RunSpec
    quick_examples: int
    table: Callable[[list[Record], Mapping[str, TaskValidity]], list[dict[str, Any]]]


def _row(protocol: str, quantity: str, paper: str, ours: float | str, n: int | str = "") -> dict[str, Any]:
    shown = f"{ours:.3f}" if isinstance(ours, float) else str(ours)
    return {"protocol": protocol, "quantity": quantity, "paper": paper, "ours": shown, "n": n}


def _checks(validity: Mapping[str, TaskValidity], task: str) -> list[ValidityCheck]:
    """The validity checks of the run's task named ``task`` (whatever its parameters)."""
    return [c for spec, entry in validity.items() if parse_spec(spec).name == task for c in entry.checks]


def _check(validity: Mapping[str, TaskValidity], task: str, name: str) -> float | None:
    return next((c.value for c in _checks(validity, task) if c.name == name), None)


def _top1(record: Record) -> str:
    return record.components[int(np.argmax(record.weights))]


def audiolime_table(records: list[Record], validity: Mapping[str, TaskValidity]) -> list[dict[str, Any]]:
    """Accuracies, the drums-first rate on misclassified clips, and the top-1 histograms' spread."""
    rows = [
        _row("audioLIME", f"{name} of the confounded classifier", paper, value)
        for name, paper in PAPER_ACCURACY.items()
        if (value := _check(validity, "confound", name)) is not None
    ]
    wrong = [r for r in records if r.ok and r.label is not None and r.label != r.target and r.ground_truth]
    if not wrong:
        return [*rows, _row("audioLIME", "misclassified t_dr-pno clips with drums", "", "none among the examples")]
    drums_first = float(np.mean([_top1(r) in r.ground_truth for r in wrong]))
    rows.append(
        _row(
            "audioLIME",
            "misclassified t_dr-pno clips: top-1 component is the drums",
            "the drums stand out (the confound is detected)",
            drums_first,
            len(wrong),
        )
    )
    trained = Counter(_top1(r) for r in wrong)
    randomized = Counter(r.components[i] for r in wrong for i in r.metric_data.get("_top1", {}).get("randomized", []))
    if randomized:
        bins = sorted(set(trained) | set(randomized))
        p, q = (np.array([c[b] for b in bins], float) for c in (trained, randomized))
        spread = f"{normalised_entropy(p, len(bins)):.3f} -> {normalised_entropy(q, len(bins)):.3f}"
        rows.append(
            _row(
                "audioLIME",
                "top-1 histogram entropy, trained -> 10 randomized models (normalised)",
                "concentrated on drums -> spread out (passes the sanity check)",
                spread,
                len(wrong),
            )
        )
        rows.append(
            _row("audioLIME", "JS divergence of the two histograms (bits)", "", js_divergence(p, q), len(wrong))
        )
    return rows


def mishra_table(records: list[Record], validity: Mapping[str, TaskValidity]) -> list[dict[str, Any]]:
    """Per occlusion content: mean N_ce of the top-3, and the rates N_ce = 3 and N_ce >= 2."""
    rows = [_row("SLIME contents", f"detector: {check.name}", "", check.value) for check in _checks(validity, "vocals")]
    for content in CONTENTS:
        own = [r for r in records if r.ok and parse_spec(r.explainer).params.get("content", "zero") == content]
        n_ce = [r.metrics["topk_overlap.n_ce"] for r in own if r.metrics.get("topk_overlap.n_ce") is not None]
        if not n_ce:
            continue
        values = np.array(n_ce)
        ours = f"{values.mean():.2f} ({np.mean(values == 3):.2f}, {np.mean(values >= 2):.2f})"
        paper = "the content the paper recommends" if content == "mean_inp" else ""
        rows.append(_row("SLIME contents", f"{content}: mean N_ce (rate N_ce = 3, N_ce >= 2)", paper, ours, len(n_ce)))
    return rows


def praher_table(records: list[Record], validity: Mapping[str, TaskValidity]) -> list[dict[str, Any]]:
    """The label-flip rate of LIME's top-3 segments next to the norm oracle's, and their overlap with the
    perturbed segments."""
    rows = []
    rate = _check(validity, "adversarial", "attack_success_rate_to_vocals")
    if rate is not None:
        rows.append(_row("veracity", "attack success rate (instrumental -> vocals)", "", rate))
    ok = [r for r in records if r.ok]
    for key, quantity, paper in (
        ("label_flip", "perturbation kept in LIME's top-3 segments flips the decision", "LIME often misses them"),
        ("label_flip.oracle", "kept in the 3 segments of most perturbation energy (norm oracle)", ""),
        ("topk_overlap", "share of LIME's top-3 that are perturbed segments", ""),
    ):
        values = [r.metrics[key] for r in ok if r.metrics.get(key) is not None]
        if values:
            rows.append(_row("veracity", quantity, paper, float(np.mean(values)), len(values)))
    return rows


PROTOCOLS = (
    Protocol(
        "audiolime",
        "Haunschmid, Manilow, Widmer 2020 (Sec. 4)",
        RunSpec(
            tasks=("confound",),
            explainers=("audiolime",),
            metrics=("topk_overlap", "randomization_divergence:n_models=10"),
            n_examples=200,
        ),
        40,
        audiolime_table,
    ),
    Protocol(
        "mishra",
        "Mishra, Benetos, Sturm, Dixon 2020 (Sec. V)",
        RunSpec(
            tasks=("vocals",),
            explainers=(f"slime:content={'|'.join(CONTENTS)},n_samples=70000",),
            metrics=("topk_overlap",),
            n_examples=100,
        ),
        10,
        mishra_table,
    ),
    Protocol(
        "praher",
        "Praher, Prinz, Flexer, Widmer 2021",
        RunSpec(tasks=("adversarial",), explainers=("slime",), metrics=("label_flip", "topk_overlap"), n_examples=100),
        10,
        praher_table,
    ),
)


def reproduce(
    out: str | Path, quick: bool = False, progress: bool = True, protocols: Sequence[Protocol] = PROTOCOLS
) -> pd.DataFrame:
    """Run the papers' protocols into ``out/<protocol>`` (resumed if there) and return the table.

    Parameters
    ----------
    out : path
        A directory for the protocols' run directories and ``reproduce.md`` / ``reproduce.csv``.
    quick : bool
        Fewer examples per protocol (a few minutes on 2 cores).
    progress : bool
        Show progress bars.

    Returns
    -------
    pd.DataFrame
        Columns ``protocol, quantity, paper, ours, n``.
    """
    out = Path(out)
    rows: list[dict[str, Any]] = []
    for protocol in protocols:
        spec = replace(protocol.spec, n_examples=protocol.quick_examples) if quick else protocol.spec
        result = run_benchmark(spec, out=out / protocol.name, progress=progress)
        rows += protocol.table(result.records, result.validity)
    table = pd.DataFrame(rows, columns=COLUMNS)
    (out / "reproduce.md").write_text(to_markdown(table))
    (out / "reproduce.csv").write_text(to_csv(table))
    return table
