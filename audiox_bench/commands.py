"""What each ``audiox`` subcommand does with its parsed arguments (heavy modules are imported here, by the
command that needs them, so ``audiox list`` stays fast)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from audiox_bench.core import registry
from audiox_bench.core.errors import AudioxError

EXIT_USAGE = 2  # a user error (bad name, SPEC, file, option) or a task that failed its validity check
EXIT_FAILED_ITEMS = 3  # the run finished, but some items failed (their reasons are in the summary and tables)
TABLE_FILES = {"md": "leaderboard.md", "csv": "leaderboard.csv", "html": "leaderboard.html"}  # --format
KINDS = ("tasks", "explainers", "metrics", "separators", "contents", "models")


def cmd_run(args: argparse.Namespace) -> int:
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
        from audiox_bench.results.publish import table_texts

        print(table_texts(result.tables())[TABLE_FILES[args.format]], end="")
    print(f"{result.seconds:.1f} s", file=sys.stderr)
    if result.invalid_tasks:
        print(f"error: tasks failed their validity check: {', '.join(result.invalid_tasks)}", file=sys.stderr)
        return EXIT_USAGE
    if any(r.error for r in result.records):
        print("error: some items failed (see above; running the same command again retries them)", file=sys.stderr)
        return EXIT_FAILED_ITEMS
    return 0


def cmd_list(args: argparse.Namespace) -> int:
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


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from audiox_bench.results.publish import table_texts, tables_of

    print(table_texts(tables_of(args.run_dir))[TABLE_FILES[args.format]], end="")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from audiox_bench.results.compare import compare
    from audiox_bench.results.formats import to_csv, to_markdown

    comparison = compare(args.a, args.b, args.explainer_a, args.explainer_b)
    print(to_markdown(comparison.table) if args.format == "md" else to_csv(comparison.table), end="")
    for note in comparison.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
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
    said = f"{result.target_name} (p = {result.probabilities[result.target]:.3f}); "
    if not result.informative:
        said += f"the explanation is not informative: {result.not_informative_because}"
    else:
        said += f"top components: {', '.join(result.top_positive) or 'none positive'}"
    print(f"{said}; written to {args.out}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from audiox_bench import testing

    if not args.plugin:
        raise AudioxError("give the plugin to check: audiox check --plugin FILE.py")
    results = [r for plugin in args.plugin for r in testing.check_plugin(plugin, args.task or testing.CHECK_TASK)]
    for result in results:
        print(result)
    failed = [r for r in results if not r.passed]
    print(f"{len(results) - len(failed)} of {len(results)} checks passed", file=sys.stderr)
    return EXIT_USAGE if failed else 0


def cmd_predict(args: argparse.Namespace) -> int:
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


def cmd_reproduce(args: argparse.Namespace) -> int:
    from audiox_bench.reproduce import reproduce
    from audiox_bench.results.formats import to_csv, to_markdown

    out = args.out or Path("runs") / ("reproduce-quick" if args.quick else "reproduce")
    table = reproduce(out, quick=args.quick, progress=not args.no_progress)
    print(to_markdown(table) if args.format == "md" else to_csv(table), end="")
    print(f"run directories and reproduce.md: {out}", file=sys.stderr)
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from audiox_bench.results.plots import plot_run

    for figure in plot_run(args.run_dir, args.out):
        if figure.path is not None:
            print(figure.path)
        else:
            print(f"skipped {figure.name}: {figure.skipped}", file=sys.stderr)
    return 0
