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

    against = _against(args) if args.against is not None else None
    spec = (
        against.spec(args.device, args.batch_size)
        if against is not None
        else make_spec(
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
    )
    engine = EngineSpec(jobs=args.jobs, dask_scheduler=args.dask_scheduler, dask_local=args.dask_local)
    result = run_benchmark(
        spec, out=args.out, overwrite=args.overwrite, progress=not args.no_progress, engine=engine, against=against
    )
    if args.format == "summary":
        print(run_summary(result.tables, result.specs, result.records, result.validity), end="")
        if args.out:
            print(
                f"full tables: {args.out / 'leaderboard.html'} (and leaderboard.csv, overall.csv, tests.csv, figures/)"
            )
    else:
        from audiox_bench.results.publish import figures_of, table_texts

        print(table_texts(result.run, figures_of(result.run))[TABLE_FILES[args.format]], end="")
    print(f"{result.seconds:.1f} s", file=sys.stderr)
    if result.invalid_tasks:
        reasons = "; ".join(f"{task}: {', '.join(result.validity[task].failures)}" for task in result.invalid_tasks)
        print(f"error: tasks failed their validity check: {reasons}", file=sys.stderr)
        return EXIT_USAGE
    if result.empty_tasks:
        reasons = "; ".join(f"{task}: {why}" for task, why in result.empty_tasks.items())
        print(f"error: tasks served no example: {reasons}", file=sys.stderr)
        return EXIT_USAGE
    if any(r.error for r in result.records):
        print("error: some items failed (see above; running the same command again retries them)", file=sys.stderr)
        return EXIT_FAILED_ITEMS
    return 0


# What --against takes from the earlier run, so it may not be given next to it.
AGAINST_FIXED = {
    "task": "--task",
    "metric": "--metric",
    "n_examples": "--n-examples",
    "quick": "--quick",
    "repeats": "--repeats",
    "seed": "--seed",
    "target": "--target",
}


def _against(args: argparse.Namespace):
    """The earlier run of ``--against``, refusing options that would change what it ran."""
    from audiox_bench.engine.against import Against

    given = [flag for name, flag in AGAINST_FIXED.items() if getattr(args, name) not in (None, False, [])]
    if given:
        raise AudioxError(
            f"--against runs the earlier run's tasks, metrics, examples, repeats, seed and target; leave out "
            f"{', '.join(given)}"
        )
    if args.out is not None and args.out.resolve() == args.against.resolve():
        raise AudioxError("--out must not be the --against run directory, which is only read; choose another --out")
    return Against.read(args.against, args.explainer)


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
    from audiox_bench.results.publish import figures_of, table_texts, tables_of

    run = tables_of(args.run_dir)
    print(table_texts(run, figures_of(run))[TABLE_FILES[args.format]], end="")
    return 0


def cmd_power(args: argparse.Namespace) -> int:
    from audiox_bench.results.formats import to_csv, to_markdown
    from audiox_bench.results.power import SIZE_FACTORS, power_frame, power_table
    from audiox_bench.results.store import read_group_rows, read_records, read_run_info

    if args.difference <= 0:
        raise AudioxError("--difference must be positive (a difference of mean ranks, e.g. 1)")
    info = read_run_info(args.run_dir)
    rows = power_table(
        read_records(args.run_dir),
        dict(info.values),
        read_group_rows(args.run_dir),
        info.families,
        args.difference,
    )
    frame = power_frame(rows)
    print(to_markdown(frame) if args.format == "md" else to_csv(frame), end="")
    print(
        f"k explainers ranked on n instances; critical_difference: Nemenyi's at n; pairs_apart: pairs whose mean "
        f"ranks differ by >= {args.difference:g}; n_for_cd: instances at which the critical difference is "
        f"{args.difference:g}; power_xF: share of those pairs Friedman + Nemenyi separates at F x n instances "
        f"(F in {', '.join(map(str, SIZE_FACTORS))}; instances resampled from the run)",
        file=sys.stderr,
    )
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from audiox_bench.engine.score import score_run
    from audiox_bench.results.store import is_run_directory

    if not is_run_directory(args.run_dir):
        raise AudioxError(f"{str(args.run_dir)!r} is not a run directory (no run.json): give the --out of audiox run")
    result = score_run(args.run_dir, args.metric, args.task, not args.no_progress)
    for task, n in result.scored.items():
        print(f"{task}: {n} explanations scored in {result.seconds[task]:.1f} s")
    if not result.scored:
        print("nothing to score: every explanation of the tasks asked for already has these metrics")
    print(f"tables rewritten: {args.run_dir / 'leaderboard.md'}", file=sys.stderr)
    return 0


def cmd_meta(args: argparse.Namespace) -> int:
    from audiox_bench.engine.rescore import Perturbation, rescore
    from audiox_bench.results.formats import to_csv, to_markdown
    from audiox_bench.results.meta import read_values, write_meta
    from audiox_bench.results.store import read_run_info

    if args.n_examples < 3:
        raise AudioxError("--n-examples must be at least 3 (rankings are compared over instances)")
    if not args.noise > 0:
        raise AudioxError("--noise must be positive (e.g. 0.1: noise of a tenth of the weights' spread)")
    out = args.out if args.out is not None else args.run_dir / "meta"
    if out.exists() and any(out.iterdir()) and not (out / "meta.csv").is_file():
        raise AudioxError(f"--out {str(out)!r} is a non-empty folder without an earlier meta.csv; give another --out")
    if args.again:
        if not (out / "meta_values.csv.gz").is_file():
            raise AudioxError(
                f"--again: {str(out)!r} holds no meta_values.csv.gz; run audiox meta without --again first"
            )
        values = read_values(out / "meta_values.csv.gz", read_run_info(args.run_dir).families)
    else:
        values = rescore(args.run_dir, args.n_examples, args.task, Perturbation(args.noise), not args.no_progress)
    if values.empty:
        raise AudioxError(f"{str(args.run_dir)!r}: no explanation of the tasks asked for to score again")
    written = write_meta(values, out)
    table = written["summary"].round(2).reset_index()
    print(to_markdown(table) if args.format == "md" else to_csv(table), end="")
    print(
        f"mean over tasks; per task, with intervals and instance counts: {out / 'meta.csv'}"
        + (f" and {out / 'meta.png'}" if written["figure"] else ""),
        file=sys.stderr,
    )
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
        start=args.start,
        duration=args.duration,
    )
    begin, end = result.explained_seconds
    windows = (
        f" in {len(result.windows)} window(s) of {result.window_seconds:g} s"
        + (f" (the last from {result.windows[-1].start:g} s)" if len(result.windows) > 1 else "")
        if result.window_seconds is not None
        else ""
    )
    print(f"explained {begin:g}-{end:g} s of {args.audio}{windows}")
    said = f"{result.target_name} (mean p = {result.probabilities[result.target]:.3f}); "
    if not result.informative:
        said += f"the explanation is not informative: {result.not_informative_because}"
    else:
        said += f"top components: {', '.join(result.top_positive) or 'none positive'}"
    print(said)
    if isinstance(result.wavs, dict):
        for name, why in result.wavs.items():
            if isinstance(why, str):
                print(f"{name}: {why}")
    if result.model_valid is False:
        print("warning: the task's model failed its validity check (see audiox run's validity.json)")
    print(f"written to {args.out}: explanation.json, {result.figure}, WAVs ({result.wav_note or result.wavs})")
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
        print(
            f"mean over {prediction.n_windows} window(s) of {prediction.window_seconds:g} s covering the file "
            "(the last ends where the file ends); audiox explain explains the same windows"
        )
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
