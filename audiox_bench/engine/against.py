"""Place new explainers on an earlier run's board (``audiox run --explainer X --against DIR``): the run
is DIR's plan with X added, only X's items run, and DIR's records of its other explainers are ranked with
them by the same tests. Its examples must be DIR's, bit for bit: each is checked by its fingerprint
(audio digest, class explained, the model's output), and a run that would explain anything else is
refused before it starts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from audiox_bench.core.documents import ExampleFingerprint, PlannedRun, TaskValidity
from audiox_bench.core.errors import AudioxError
from audiox_bench.core.records import Record
from audiox_bench.core.spec import parse_spec
from audiox_bench.engine.run_spec import RunSpec
from audiox_bench.results.store import read_records, read_run_info, read_validity

# The model's output on an example may differ by this much from DIR's (float round-off of another BLAS
# code path) and still be the same model; a retrained or changed model differs by far more.
OUTPUT_TOLERANCE = 1e-5


@dataclass(frozen=True)
class Against:
    """The run a new explainer is placed against.

    Attributes
    ----------
    path : Path
        Its run directory (read, never written).
    plan : PlannedRun
        What it ran.
    records : list of Record
        Its records.
    validity : mapping of task SPEC to TaskValidity
        Its tasks' checks and example fingerprints.
    added : tuple of str
        The explainers (SPECs) placed on its board: run on every task it ran, made afresh if it had them.
    """

    path: Path
    plan: PlannedRun
    records: list[Record]
    validity: Mapping[str, TaskValidity]
    added: tuple[str, ...]

    @staticmethod
    def read(path: str | Path, explainers: Sequence[str]) -> Against:
        """Read a run directory to place ``explainers`` against.

        Raises
        ------
        AudioxError
            If no explainer is given, ``path`` is not a run directory, or it was made before examples
            had fingerprints.
        """
        if not explainers:
            raise AudioxError("--against needs the explainers to place: give them with --explainer")
        path = Path(path)
        info = read_run_info(path)
        validity = read_validity(path)
        if not validity or not all(entry.examples for entry in validity.values() if entry.passed):
            raise AudioxError(
                f"--against {str(path)!r}: the run has no example fingerprints (made before audiox-bench 0.3.0), "
                "so its examples cannot be checked; rerun it with this version"
            )
        return Against(path, info.spec, read_records(path), validity, tuple(explainers))

    def spec(self, device: str = "cpu", batch_size: int | None = None) -> RunSpec:
        """The run's plan with the added explainers on every task (its tasks, metrics, examples, repeats,
        seed and target unchanged)."""
        return spec_of_plan(self.plan, self.added, device, batch_size)

    def kept_records(self, added_canonical: Sequence[str]) -> list[Record]:
        """The run's records of every explainer but the added ones (canonical SPECs: made afresh)."""
        added = set(added_canonical)
        return [r for r in self.records if r.explainer not in added]

    def check_examples(self, task: str, here: Mapping[str, ExampleFingerprint]) -> None:
        """Refuse, in one line, a task whose examples here are not the run's.

        Raises
        ------
        AudioxError
            Naming the first example that differs and how, and how many do.
        """
        there = self.validity[task].examples if task in self.validity else {}
        why = fingerprint_difference(here, there)
        if why is not None:
            raise AudioxError(f"--against {str(self.path)!r}: task {task!r}: {why}; run the whole benchmark")


def spec_of_plan(
    plan: PlannedRun, added: Sequence[str] = (), device: str = "cpu", batch_size: int | None = None
) -> RunSpec:
    """The RunSpec that runs ``plan`` again (its tasks, explainers, metrics, examples, repeats, seed and
    target), with the explainers ``added`` on every task."""
    return RunSpec(
        tasks=plan.tasks,
        explainers=tuple(dict.fromkeys((*plan.explainers, *added))),
        metrics=plan.metrics,
        n_examples=plan.n_examples,
        task_examples={parse_spec(task).name: n for task, n in plan.task_examples.items()},
        repeats=plan.repeats,
        seed=plan.seed,
        device=device,
        target=plan.target,
        batch_size=batch_size,
        task_explainers={
            parse_spec(task).name: tuple(dict.fromkeys((*names, *added)))
            for task, names in plan.task_explainers.items()
        },
    )


def fingerprint_difference(
    here: Mapping[str, ExampleFingerprint], there: Mapping[str, ExampleFingerprint]
) -> str | None:
    """How the examples fingerprinted ``here`` differ from those ``there`` (the first difference, and how
    many differ that way), or None when they are the same examples explained by the same model."""
    new, missing = sorted(set(here) - set(there)), sorted(set(there) - set(here))
    if new or missing:
        return (
            f"its examples are not the run's ({len(new)} the run did not explain, {len(missing)} of the run's "
            f"missing; first {(new or missing)[0]!r}): the task's data or selection changed"
        )
    audio = [key for key in sorted(here) if here[key].audio != there[key].audio]
    if audio:
        return (
            f"the audio of {len(audio)} of its {len(here)} examples differs from the run's (first {audio[0]!r}: "
            f"{here[audio[0]].audio} here, {there[audio[0]].audio} there); the task's data changed (another "
            "version or its parameters)"
        )
    targets = [key for key in sorted(here) if here[key].target != there[key].target]
    if targets:
        return (
            f"the class explained differs on {len(targets)} examples (first {targets[0]!r}); the model or --target "
            "changed"
        )
    differences = {key: abs(here[key].output - there[key].output) for key in here}
    worst = max(differences, key=differences.__getitem__, default=None)
    if worst is not None and differences[worst] > OUTPUT_TOLERANCE:
        return (
            f"the model's output differs from the run's by up to {differences[worst]:.3g} (example {worst!r}): it is "
            "another model (retrained on another machine, or changed)"
        )
    return None
