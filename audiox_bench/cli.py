"""The ``audiox`` command line: its arguments and the entry point (the commands are in
:mod:`audiox_bench.commands`)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from audiox_bench import commands
from audiox_bench.commands import EXIT_USAGE, KINDS
from audiox_bench.core.errors import AudioxError
from audiox_bench.core.plugins import load_plugin
from audiox_bench.core.threads import prepare_environment, set_threads

EXIT_CODES = (
    "exit status: 0 success; 2 a user error (one 'error:' line) or a task failed its validity check; "
    "3 the run finished but some items failed; 130 interrupted"
)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``error: ...``, exit 2) instead of a usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"error: {message} (see '{self.prog} --help')\n")


def _add_threads_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        metavar="N",
        help="torch threads of this process (default: AUDIOX_THREADS, else the cores it may use). Waiting threads "
        "sleep if the machine is busy when the run starts (unless you set OMP_WAIT_POLICY or GOMP_SPINCOUNT); "
        "on a shared machine where others start jobs later, set OMP_WAIT_POLICY=PASSIVE",
    )


def _add_plugin_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE_OR_FILE.py",
        help="import a module or .py file that registers tasks, explainers or metrics (repeatable)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="audiox", description="AudioX-Bench: benchmark explainers of audio classifiers.", epilog=EXIT_CODES
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = commands.add_parser("run", help="run a benchmark and print its leaderboard")
    run.add_argument(
        "--task",
        action="append",
        default=[],
        metavar="SPEC",
        help="task SPEC, e.g. confound:split=t_dr-gtr (repeatable; default: confound)",
    )
    run.add_argument(
        "--explainer",
        action="append",
        default=[],
        metavar="SPEC",
        help="explainer SPEC, e.g. audiolime:separator=hpss (repeatable; default: audiolime); "
        "a|b alternatives expand to one configuration each, e.g. slime:content=zero|mean_inp",
    )
    run.add_argument(
        "--metric",
        action="append",
        default=[],
        metavar="SPEC",
        help="metric SPEC (repeatable; default: topk_overlap). randomization_divergence re-explains every instance "
        "on n_models (default 4) randomized models: about 4x the cost of the explanations; with curve=true, "
        "(layers - 1) x n_models more",
    )
    run.add_argument("--n-examples", type=int, default=None, help="examples per task (default 200; 20 with --quick)")
    run.add_argument(
        "--repeats", type=int, default=None, help="explanations per example, each with its own seed (default 1)"
    )
    run.add_argument("--seed", type=int, default=None, help="root seed of the explainers' randomness (default 0)")
    run.add_argument(
        "--benchmark",
        default=None,
        metavar="NAME",
        help="a named preset ('default': every task, explainer configuration and metric; on the real model "
        "of 'tags', all but those sampling SLIME's segments); options given next to it override the preset's "
        "(explainers given run on every task)",
    )
    run.add_argument("--quick", action="store_true", help="a small run for a first look (20 examples)")
    run.add_argument(
        "--against",
        type=Path,
        default=None,
        metavar="RUN_DIR",
        help="place the --explainer(s) on an earlier run's board (e.g. leaderboard/): run only them, on the run's "
        "tasks, metrics and examples (checked by fingerprint; refused if they differ), and rank them among its "
        "explainers. RUN_DIR is only read; write the result with --out",
    )
    run.add_argument("--out", type=Path, default=None, help="run directory (resumed if it holds the same spec)")
    run.add_argument("--overwrite", action="store_true", help="replace a run directory holding another spec")
    run.add_argument(
        "--target",
        default=None,
        metavar="CLASS",
        help="class to explain, by name or index (default: each example's predicted class)",
    )
    run.add_argument("--device", default="cpu", help="torch device of the task models (cpu, cuda, ...)")
    run.add_argument(
        "--batch-size",
        type=int,
        default=None,
        metavar="N",
        help="inputs per model forward pass (default 64, the best on CPU in benchmarks/; raise it on a GPU)",
    )
    run.add_argument("--no-progress", action="store_true", help="hide progress bars")
    _add_threads_option(run)
    run.add_argument("--jobs", type=int, default=1, help="local worker processes (default 1: in this process)")
    run.add_argument(
        "--dask-scheduler",
        default=None,
        metavar="ADDRESS",
        help="run work items on a Dask cluster (needs the dask extra)",
    )
    run.add_argument(
        "--dask-local",
        type=int,
        default=None,
        metavar="N",
        help="start a local Dask cluster of N workers (needs the dask extra)",
    )
    run.add_argument(
        "--format",
        choices=("summary", "md", "csv", "html"),
        default="summary",
        help="what to print: a per-task summary (default; the run directory holds every table) or the whole "
        "leaderboard as md, csv or html",
    )
    _add_plugin_option(run)

    listing = commands.add_parser(
        "list", help="list registered tasks, explainers, metrics, separators, occlusion contents"
    )
    listing.add_argument("kind", nargs="?", choices=KINDS)
    listing.add_argument("name", nargs="?", help="show this one's parameters with types, defaults and meanings")
    _add_plugin_option(listing)

    versus = commands.add_parser(
        "compare",
        help="compare explainers instance by instance (paired, Wilcoxon): two runs, two explainers of one run, or "
        "two leaderboard CSVs (unpaired)",
    )
    versus.add_argument("a", type=Path, metavar="RUN_A")
    versus.add_argument("b", type=Path, metavar="RUN_B", nargs="?", help="another run (default: RUN_A itself)")
    versus.add_argument("--a", dest="explainer_a", metavar="EXPLAINER", help="explainer of RUN_A (name or SPEC)")
    versus.add_argument("--b", dest="explainer_b", metavar="EXPLAINER", help="explainer of RUN_B (name or SPEC)")
    versus.add_argument("--format", choices=("md", "csv"), default="md")

    one = commands.add_parser("explain", help="explain a task model's prediction on one audio file, with WAVs")
    one.add_argument("audio", type=Path, metavar="AUDIO")
    one.add_argument("--task", required=True, metavar="SPEC", help="task whose model is explained")
    one.add_argument(
        "--explainer",
        default=None,
        metavar="SPEC",
        help="explainer SPEC (default audiolime:separator=hpss: a file has no oracle stems)",
    )
    one.add_argument(
        "--out",
        type=Path,
        required=True,
        help="folder for explanation.json, the WAVs and explanation.png (new or empty; an earlier explanation's "
        "folder is replaced whole)",
    )
    one.add_argument("--target", default=None, metavar="CLASS", help="class to explain (default: the predicted one)")
    one.add_argument("--top", type=int, default=3, help="top positive components written as audio")
    one.add_argument("--seed", type=int, default=0)
    one.add_argument("--device", default="cpu")
    one.add_argument("--start", type=float, default=0.0, metavar="SECONDS", help="where the explained span starts")
    one.add_argument(
        "--duration", type=float, default=None, metavar="SECONDS", help="its length (default: to the end of the file)"
    )
    _add_threads_option(one)
    _add_plugin_option(one)

    says = commands.add_parser("predict", help="print what a task's model says about an audio file (top labels)")
    says.add_argument("audio", type=Path, metavar="AUDIO")
    says.add_argument("--task", required=True, metavar="SPEC", help="task whose model predicts")
    says.add_argument("--top", type=int, default=5, help="labels printed (default 5)")
    says.add_argument("--json", action="store_true", help="every label's probability as one JSON object")
    says.add_argument("--device", default="cpu")
    _add_threads_option(says)
    _add_plugin_option(says)

    figures = commands.add_parser("plot", help="the papers' figures from a run's records (needs matplotlib)")
    figures.add_argument("run_dir", type=Path, metavar="RUN")
    figures.add_argument("--out", type=Path, required=True, help="directory for the PNG files")

    check = commands.add_parser(
        "check", help="check a plugin's tasks, explainers and metrics against the contracts (exit 2 if any fails)"
    )
    check.add_argument(
        "--task",
        default=None,
        metavar="SPEC",
        help="task the explainers and metrics are checked on (default: a small confound task)",
    )
    _add_plugin_option(check)

    again = commands.add_parser(
        "reproduce",
        help="the papers' own protocols (audioLIME, SLIME contents, veracity), paper next to ours",
    )
    again.add_argument("--quick", action="store_true", help="fewer examples per protocol (a few minutes)")
    again.add_argument(
        "--out", type=Path, default=None, help="run directories of the protocols (default runs/reproduce[-quick])"
    )
    again.add_argument("--format", choices=("md", "csv"), default="md")
    again.add_argument("--no-progress", action="store_true", help="hide progress bars")
    _add_threads_option(again)

    board = commands.add_parser("leaderboard", help="print the leaderboard of a run directory again")
    board.add_argument("run_dir", type=Path)
    board.add_argument("--format", choices=("md", "csv", "html"), default="md")

    power = commands.add_parser(
        "power",
        help="how many examples the run's rankings need: the power of Friedman + Nemenyi to separate explainers "
        "whose mean ranks differ by --difference, at the run's size and larger (resampling its instances)",
    )
    power.add_argument("run_dir", type=Path)
    power.add_argument("--difference", type=float, default=1.0, help="mean-rank difference to detect (default 1)")
    power.add_argument("--format", choices=("md", "csv"), default="md")

    score = commands.add_parser(
        "score",
        help="add per-instance metrics to a finished run, in place (its explanations scored again, nothing "
        "explained again): e.g. the exact Shapley agreement, too costly for every run",
    )
    score.add_argument("run_dir", type=Path)
    score.add_argument("--metric", action="append", required=True, metavar="SPEC", help="metric to add (repeatable)")
    score.add_argument("--task", action="append", default=[], help="task name to score (default: every task)")
    score.add_argument("--no-progress", action="store_true", help="hide progress bars")
    _add_threads_option(score)

    meta = commands.add_parser(
        "meta",
        help="which metric to trust: each metric's agreement with the planted truth, its separation from the "
        "controls, its resilience to minor and reaction to disruptive perturbations of the explanations, and its "
        "agreement across its own settings (scores the run's explanations again; nothing is explained again)",
    )
    meta.add_argument("run_dir", type=Path)
    meta.add_argument("--n-examples", type=int, default=10, help="the first N examples of each task (default 10)")
    meta.add_argument("--task", action="append", default=[], help="task name to read (default: every task)")
    meta.add_argument("--noise", type=float, default=0.1, help="the minor perturbation's noise, x std of the weights")
    meta.add_argument("--out", type=Path, help="where meta.csv, meta_values.csv.gz and meta.png go (RUN_DIR/meta)")
    meta.add_argument(
        "--again",
        action="store_true",
        help="evaluate the values an earlier audiox meta wrote (meta_values.csv.gz in --out) without scoring again",
    )
    meta.add_argument("--format", choices=("md", "csv"), default="md")
    meta.add_argument("--no-progress", action="store_true", help="hide progress bars")
    _add_threads_option(meta)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``audiox`` console script."""
    prepare_environment()  # before torch is imported
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if "threads" in args:
            set_threads(args.threads)
        if args.command != "check":  # check loads its plugins itself, to see what each registers
            for plugin in args.plugin if "plugin" in args else []:
                load_plugin(plugin)
        handler = getattr(commands, f"cmd_{args.command}")
        return handler(args)
    except AudioxError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)  # one line, whatever a library said
        return EXIT_USAGE
    except KeyboardInterrupt:
        # On its own line (a progress bar may hold the cursor); a run keeps every record it finished.
        resume = ""
        if args.command == "run":
            resume = (
                f" (the records made so far are in {args.out}: the same command resumes the run)"
                if args.out is not None
                else " (nothing was kept: give --out to make a run resumable)"
            )
        print(f"\nerror: interrupted{resume}", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
