"""Named benchmark presets (``audiox run --benchmark NAME``).

``default`` runs every built-in task with every explainer configuration the built-in explainers declare
for it (:attr:`~audiox_bench.core.interfaces.Explainer.default_benchmark`: on ``tags``, the real model, all
but those that sample SLIME's segments) and every metric, at settings that finish on a 2-core CPU machine
in under half an hour; its result is published in ``leaderboard/``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from audiox_bench.core import defaults, registry
from audiox_bench.core.errors import UnknownNameError
from audiox_bench.core.registry import close_matches_hint
from audiox_bench.core.spec import parse_spec
from audiox_bench.engine.run_spec import RunSpec

DEFAULT_TASKS = ("confound", "vocals", "adversarial", "tags")
DEFAULT_METRICS = (
    "topk_overlap",
    "faithfulness_correlation",
    "surrogate_fidelity",
    "content_agreement",
    "label_flip",
    "randomization_divergence:n_models=3,curve=false",
    # the literature's metrics (ranked on their own, not in the overall verdict; audiox meta reads them)
    "pointing_game",
    "relevance_mass",
    "localisation_auc",
    "segment_auc",
    "deletion",
    "insertion",
    "average_drop",
    "average_increase",
    "average_gain",
    "sparseness",
    "complexity",
)


# Examples per task, from a power analysis of the published records (``audiox power leaderboard``): an
# example of the real model (tags) costs about 5x one of a synthetic task (randomization's three models
# dominate), and with ~20 configurations ranked on vocals and adversarial their extra examples separate
# the most pairs per second. With the literature's metrics and the controls, 15 tags examples took the
# default to 34:47 on 2 cores (cold cache, other work on the machine; tags ~13 of it): 25 / 25 / 20 / 12
# keeps it within 30 minutes.
DEFAULT_TASK_EXAMPLES = {"vocals": 25, "adversarial": 25, "tags": 12}


def default_benchmark() -> RunSpec:
    """Every built-in task, with the configurations the built-in explainers declare for it."""
    names = registry.explainers.builtin_names()
    declared = [c for name in names for c in registry.explainers.get(name).default_benchmark]
    everywhere = tuple(c.spec for c in declared if not c.only_tasks)
    own = {task: tuple(c.spec for c in declared if c.runs_on(task)) for task in DEFAULT_TASKS}
    chosen = {task: specs for task, specs in own.items() if specs != everywhere}  # the others run them all
    return RunSpec(
        tasks=DEFAULT_TASKS,
        explainers=everywhere,
        task_explainers=chosen,
        metrics=DEFAULT_METRICS,
        n_examples=20,
        task_examples=DEFAULT_TASK_EXAMPLES,
        repeats=1,
    )


PRESETS: dict[str, Callable[[], RunSpec]] = {"default": default_benchmark}


def preset(name: str, **overrides: Any) -> RunSpec:
    """The RunSpec of a named preset, with any fields overridden (e.g. ``seed``, ``device``)."""
    if name not in PRESETS:
        raise UnknownNameError(
            f"unknown benchmark {name!r}{close_matches_hint(name, PRESETS)}; available: {', '.join(sorted(PRESETS))}"
        )
    return replace(PRESETS[name](), **{k: v for k, v in overrides.items() if v is not None})


def make_spec(
    benchmark: str | None = None,
    tasks: Sequence[str] = (),
    explainers: Sequence[str] = (),
    metrics: Sequence[str] = (),
    n_examples: int | None = None,
    quick: bool = False,
    **fields: Any,
) -> RunSpec:
    """The RunSpec the command line and the Python API describe: a named preset (``benchmark``) or the
    defaults, with whatever is given overriding them; ``quick`` means 20 examples per task unless
    ``n_examples`` says otherwise. ``fields`` are the other RunSpec fields (None keeps the default).

    Explainers given here run on every task (a preset's per-task choice no longer applies); tasks given
    here keep the preset's explainers for those of them it chose explainers for. So do examples: a number
    given (or ``quick``) applies to every task, else the preset's per-task numbers stay.
    """
    overrides = {
        "tasks": tuple(tasks) or None,
        "explainers": tuple(explainers) or None,
        "metrics": tuple(metrics) or None,
        "n_examples": n_examples if n_examples is not None else (defaults.QUICK_N_EXAMPLES if quick else None),
        **fields,
    }
    base = preset(benchmark) if benchmark is not None else RunSpec()
    task_names = {parse_spec(text).name for text in overrides["tasks"] or base.tasks}
    overrides["task_explainers"] = fields.get("task_explainers") or {
        name: chosen for name, chosen in base.task_explainers.items() if not explainers and name in task_names
    }
    overrides["task_examples"] = fields.get("task_examples") or {  # a number given applies to every task
        name: n for name, n in base.task_examples.items() if overrides["n_examples"] is None and name in task_names
    }
    return replace(base, **{k: v for k, v in overrides.items() if v is not None})
