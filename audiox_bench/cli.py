"""The ``audiox`` command line: run, list, leaderboard."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from audiox_bench.core import registry
from audiox_bench.core.errors import AudioxError
from audiox_bench.core.threads import prepare_environment, set_threads

EXIT_USAGE = 2  # a user error (bad name, SPEC, file, option) or a task that failed its validity check
EXIT_FAILED_ITEMS = 3  # the run finished, but some items failed (their reasons are in the summary and tables)
EXIT_CODES = (
    "exit status: 0 success; 2 a user error (one 'error:' line) or a task failed its validity check; "
    "3 the run finished but some items failed; 130 interrupted"
)
KINDS = ("tasks", "explainers", "metrics", "separators", "contents", "models")


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
    one.add_argument("--out", type=Path, required=True, help="directory for explanation.json and WAV files")
    one.add_argument("--target", default=None, metavar="CLASS", help="class to explain (default: the predicted one)")
    one.add_argument("--top", type=int, default=3, help="top positive components written as audio")
    one.add_argument("--seed", type=int, default=0)
    one.add_argument("--device", default="cpu")
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
    return parser


def _cmd_run(args: argparse.Namespace) -> int:
    from audiox_bench.engine.executors import EngineSpec
    from audiox_bench.engine.presets import make_spec
    from audiox_bench.engine.runner import run_benchmark
    from audiox_bench.results.summary import run_summary

    spec = make_spec(
        args.benchmark,
        args.task,
        args.explainer,
        args.metric,
        args.n_examples,
        args.quick,
        repeats=args.repeats,
        seed=args.seed,
        device=args.device,
        target=args.target,
        batch_size=args.batch_size,
    )
    engine = EngineSpec(jobs=args.jobs, dask_scheduler=args.dask_scheduler, dask_local=args.dask_local)
    result = run_benchmark(spec, out=args.out, overwrite=args.overwrite, progress=not args.no_progress, engine=engine)
    if args.format == "summary":
        print(run_summary(result.leaderboard, result.overall, result.specs, result.records, result.validity), end="")
        if args.out:
            print(f"full tables: {args.out / 'leaderboard.html'} (and leaderboard.csv, leaderboard.md, overall.csv)")
    else:
        print(
            format_table(result.leaderboard, result.overall, result.specs, args.format, validity=result.validity),
            end="",
        )
    print(f"{result.seconds:.1f} s", file=sys.stderr)
    if result.invalid_tasks:
        print(f"error: tasks failed their validity check: {', '.join(result.invalid_tasks)}", file=sys.stderr)
        return EXIT_USAGE
    if any(r.error for r in result.records):
        print("error: some items failed (see above; running the same command again retries them)", file=sys.stderr)
        return EXIT_FAILED_ITEMS
    return 0


def format_table(
    table, overall, specs, fmt: str, run_info: dict | None = None, validity: dict | None = None, costs=None
) -> str:
    """A leaderboard as ``md`` (overall ranks, then every value), ``csv`` or self-contained ``html``."""
    from audiox_bench.results.html import to_html
    from audiox_bench.results.leaderboard import to_csv, to_markdown

    if fmt == "csv":
        return to_csv(table)
    if fmt == "html":
        return to_html(table, overall, specs, run_info, validity, costs)
    return to_markdown(overall) + "\n" + to_markdown(table)


def _cmd_list(args: argparse.Namespace) -> int:
    import textwrap

    if args.name is not None:
        if args.kind is None:
            raise AudioxError("name the kind too, e.g. 'audiox list explainers audiolime'")
        reg = registry.REGISTRIES[args.kind]
        print(f"{args.name}: {reg.describe(args.name)}")
        parameters = reg.parameters(args.name)
        print("parameters:" if parameters else "parameters: none")
        for info in parameters:
            default = "required" if info.required else f"default {info.default!r}"
            kind = f" ({info.annotation})" if info.annotation else ""
            print(f"  {info.name}{kind}, {default}" + (f": {info.meaning}" if info.meaning else ""))
        choices = getattr(reg.get(args.name), "choices", None)
        if callable(choices):  # e.g. captum's methods, each with how its weights are read
            print("choices:")
            for line in choices():
                print(f"  {line}")
        return 0
    for kind in [args.kind] if args.kind else list(KINDS):
        reg = registry.REGISTRIES[kind]
        print(f"{kind}:")
        width = max((len(name) for name in reg.names()), default=0) + 2
        for name in reg.names():
            lines = textwrap.wrap(
                reg.describe(name), width=110, initial_indent=f"  {name:<{width}}", subsequent_indent=" " * (width + 2)
            ) or [f"  {name}"]
            print("\n".join(lines))
    if args.kind is None:
        print("details of one: audiox list KIND NAME (e.g. audiox list explainers slime)")
    return 0


def _cmd_leaderboard(args: argparse.Namespace) -> int:
    from audiox_bench.results.leaderboard import tables_of

    run = tables_of(args.run_dir)
    print(format_table(run.table, run.overall, run.specs, args.format, run.run_info, run.validity, run.costs), end="")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from audiox_bench.results.compare import compare
    from audiox_bench.results.leaderboard import to_csv, to_markdown

    comparison = compare(args.a, args.b, args.explainer_a, args.explainer_b)
    print(to_markdown(comparison.table) if args.format == "md" else to_csv(comparison.table), end="")
    for note in comparison.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    from audiox_bench.explain_file import DEFAULT_EXPLAINER, explain_file

    result = explain_file(
        args.audio,
        args.task,
        args.explainer or DEFAULT_EXPLAINER,
        args.out,
        target=args.target,
        seed=args.seed,
        k=args.top,
        device=args.device,
        progress=True,
    )
    said = f"{result['target_name']} (p = {result['probabilities'][result['target']]:.3f}); "
    if not result["informative"]:
        said += f"the explanation is not informative: {result['not_informative_because']}"
    else:
        said += f"top components: {', '.join(result['top_positive']) or 'none positive'}"
    print(f"{said}; written to {args.out}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from audiox_bench import testing

    if not args.plugin:
        raise AudioxError("give the plugin to check: audiox check --plugin FILE.py")
    results = [r for plugin in args.plugin for r in testing.check_plugin(plugin, args.task or testing.CHECK_TASK)]
    for result in results:
        print(result)
    failed = [r for r in results if not r.passed]
    print(f"{len(results) - len(failed)} of {len(results)} checks passed", file=sys.stderr)
    return EXIT_USAGE if failed else 0


def _cmd_predict(args: argparse.Namespace) -> int:
    import json

    from audiox_bench.predict_file import predict_file

    prediction = predict_file(args.audio, args.task, args.device, progress=not args.json)
    if args.json:
        print(json.dumps(prediction.as_dict()))
        return 0
    if prediction.window_seconds is not None:
        print(f"mean over {prediction.n_windows} window(s) of {prediction.window_seconds:g} s")
    for label, probability in prediction.top(args.top):
        print(f"{probability:.3f}  {label}")
    return 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from audiox_bench.reproduce import reproduce
    from audiox_bench.results.leaderboard import to_csv, to_markdown

    out = args.out or Path("runs") / ("reproduce-quick" if args.quick else "reproduce")
    table = reproduce(out, quick=args.quick, progress=not args.no_progress)
    print(to_markdown(table) if args.format == "md" else to_csv(table), end="")
    print(f"run directories and reproduce.md: {out}", file=sys.stderr)
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    from audiox_bench.results.plots import plot_run

    for figure in plot_run(args.run_dir, args.out):
        if figure.path is not None:
            print(figure.path)
        else:
            print(f"skipped {figure.name}: {figure.skipped}", file=sys.stderr)
    return 0


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
                registry.load_plugin(plugin)
        handler = {
            "run": _cmd_run,
            "list": _cmd_list,
            "leaderboard": _cmd_leaderboard,
            "compare": _cmd_compare,
            "plot": _cmd_plot,
            "explain": _cmd_explain,
            "check": _cmd_check,
            "predict": _cmd_predict,
            "reproduce": _cmd_reproduce,
        }[args.command]
        return handler(args)
    except AudioxError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)  # one line, whatever a library said
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
