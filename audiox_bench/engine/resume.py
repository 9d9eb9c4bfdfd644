"""Whether a run directory can be resumed or extended by a new plan, and which plugin code changed since
its records were made."""

from __future__ import annotations

from collections.abc import Mapping

from audiox_bench.core.documents import PlannedRun


def plan_differences(run: PlannedRun, here: PlannedRun) -> list[str]:
    """Why the plan ``here`` cannot resume or extend the run directory's plan ``run`` (nothing when it
    equals it or only adds tasks, explainers, metrics, examples or repeats)."""
    problems = []
    for key in ("seed", "target"):
        if getattr(run, key) != getattr(here, key):
            problems.append(f"{key} {getattr(here, key)!r} here, {getattr(run, key)!r} in the run")
    for key in ("tasks", "explainers", "metrics"):
        missing = sorted(set(getattr(run, key)) - set(getattr(here, key)))
        if missing:
            problems.append(f"{key} of the run missing here: {', '.join(missing)}")
    tasks_here, explainers_here = set(here.tasks), set(here.explainers)
    dropped = sorted(
        (task, name) for task, name in run.pairs() - here.pairs() if task in tasks_here and name in explainers_here
    )
    if dropped:
        problems.append(
            "explainers of the run not run on the same task here: "
            + ", ".join(f"{name} on {task}" for task, name in dropped)
        )
    for task in sorted(set(run.tasks) & tasks_here):
        if here.examples_for(task) < run.examples_for(task):
            problems.append(f"n_examples of {task} {here.examples_for(task)} here, {run.examples_for(task)} in the run")
    if here.repeats < run.repeats:
        problems.append(f"repeats {here.repeats} here, {run.repeats} in the run")
    return problems


def changed_origins(
    run: Mapping[str, Mapping[str, Mapping[str, str]]], here: Mapping[str, Mapping[str, Mapping[str, str]]]
) -> dict[str, set[str]]:
    """Per kind, the names whose plugin code differs from when the run's records were made."""
    changed: dict[str, set[str]] = {}
    for kind, names in here.items():
        for name, described in names.items():
            before = run.get(kind, {}).get(name)
            if before is not None and before != described:
                changed.setdefault(kind, set()).add(name)
    return changed
