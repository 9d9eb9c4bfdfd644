"""The tables of a run on records with known answers: what is ranked and how, the overall verdict's rule,
intervals that do not collapse, values per dataset left unranked, and the verdict across tasks."""

import numpy as np
import pandas as pd
import pytest

from audiox_bench.core.data import ValueSpec
from audiox_bench.core.records import GroupRow, Record
from audiox_bench.results.ranking import ALL_TASKS, MIN_COVERAGE
from audiox_bench.results.tables import PER_DATASET, build_tables
from audiox_bench.results.values import DATASET

SPECS = {
    "m1": ValueSpec("m1", primary=True),
    "m2": ValueSpec("m2", primary=True),
    "m3": ValueSpec("m3", primary=True),
    "m1.sub": ValueSpec("m1.sub", "score"),
    "m1.ref": ValueSpec("m1.ref", "reference"),
}


def records_of(values: dict[str, dict[str, list[float | None]]], task: str = "t") -> list[Record]:
    """Records from ``{explainer: {metric: per-instance values}}`` (instance i is example ``str(i)``)."""
    out = []
    for explainer, metrics in values.items():
        n = max(len(v) for v in metrics.values())
        for i in range(n):
            out.append(Record(task, explainer, str(i), 0, metrics={m: v[i] for m, v in metrics.items() if i < len(v)}))
    return out


def test_the_overall_verdict_averages_scaled_ranks_over_the_scores_each_explainer_has():
    n = 12
    records = records_of(
        {
            "a": {"m1": [3.0] * n, "m2": [2.0] * n, "m3": [1.0] * n},  # m3: a alone, ranks against nobody
            "b": {"m1": [2.0] * n, "m2": [3.0] * n},
            "c": {"m1": [1.0] * n},  # c has no m2
        }
    )
    verdict = build_tables(records, SPECS).verdicts[("t", "")]
    ranks = dict(zip(verdict.explainers, verdict.mean_ranks))
    # m1 scales a 0, b 0.5, c 1; m2 (a, b only) b 0, a 1; each explainer's mean over the scores it has
    assert ranks == pytest.approx({"b": 0.25, "a": 0.5, "c": 1.0})
    assert verdict.explainers == ("b", "a", "c")
    assert dict(zip(verdict.explainers, verdict.coverage)) == {"a": 2 * n, "b": 2 * n, "c": n}
    groups = dict(zip(verdict.explainers, verdict.groups))
    # c is last in all 12 blocks it shares with a and with b: exact p = 2/4096, separated after Holm
    assert not set(groups["c"]) & (set(groups["a"]) | set(groups["b"]))
    overall = build_tables(records, SPECS).overall.set_index("explainer")
    assert overall.loc["c", "scores"] == "m1" and overall.loc["a", "scores"] == "m1;m2;m3"
    assert overall["overall_rank"].to_dict() == {"b": 1, "a": 2, "c": 3}


def test_a_verdict_on_too_few_instances_separates_nobody():
    records = records_of({"a": {"m1": [3.0] * 4}, "b": {"m1": [2.0] * 4}, "c": {"m1": [1.0] * 4}})
    verdict = build_tables(records, SPECS).verdicts[("t", "")]
    # 4 paired instances: the smallest exact two-sided p of a sign test is 2/16 = 0.125
    assert verdict.explainers == ("a", "b", "c") and verdict.groups == ("a", "a", "a")


def test_references_and_diagnostics_are_shown_not_ranked():
    records = records_of(
        {e: {"m1": [v] * 3, "m1.sub": [v] * 3, "m1.ref": [v] * 3, "m1.n": [v] * 3} for e, v in (("a", 1.0), ("b", 0.0))}
    )
    table = build_tables(records, SPECS).leaderboard.set_index(["metric", "explainer"])
    assert table.loc[("m1", "a"), "rank"] == 1 and table.loc[("m1.sub", "b"), "rank"] == 2
    assert table.loc[("m1.ref", "a"), "rank"] is pd.NA and table.loc[("m1.n", "a"), "rank"] is pd.NA
    assert table.loc[("m1.ref", "a"), "status"] == "reference: not ranked"
    assert table.loc[("m1.ref", "a"), "mean"] == 1.0  # shown


def test_rank_respects_direction():
    records = records_of({e: {"good": [v] * 3, "bad": [v] * 3} for e, v in (("a", 1.0), ("b", 0.0))})
    specs = {"good": ValueSpec("good", "score", True, True), "bad": ValueSpec("bad", "score", False, True)}
    table = build_tables(records, specs).leaderboard.set_index(["metric", "explainer"])
    assert table.loc[("good", "a"), "rank"] == 1 and table.loc[("good", "b"), "rank"] == 2
    assert table.loc[("bad", "b"), "rank"] == 1 and table.loc[("bad", "a"), "rank"] == 2


def test_rates_get_wilson_intervals_and_dataset_values_get_none():
    records = records_of({"a": {"m1": [1.0] * 10}, "b": {"m1": [0.0] * 10}})
    group_rows = [GroupRow("t", e, DATASET, None, {"m2": v}) for e, v in (("a", 0.3), ("b", 0.9))]
    table = build_tables(records, SPECS, group_rows).leaderboard.set_index(["metric", "explainer"])
    a = table.loc[("m1", "a")]
    assert a["interval"] == "wilson" and a["ci_low"] == pytest.approx(0.7225, abs=1e-4) and a["ci_high"] == 1.0
    assert table.loc[("m1", "b"), "ci_high"] == pytest.approx(0.2775, abs=1e-4)  # 0 of 10: [0, 0.28]
    per_dataset = table.loc[("m2", "b")]
    assert per_dataset["status"] == PER_DATASET and per_dataset["interval"] == "none"
    assert np.isnan(per_dataset["ci_low"]) and np.isnan(per_dataset["ci_high"])
    assert table.loc[("m2", "a"), "rank"] is pd.NA and table.loc[("m2", "b"), "group"] == ""


def test_float_noise_is_a_tie_and_a_real_difference_is_a_group():
    rng = np.random.default_rng(0)
    base = rng.random(30)
    records = records_of(
        {
            "best": {"m1": list(base)},
            "noise": {"m1": list(base - 1e-12)},
            "close": {"m1": list(base - rng.normal(0, 0.01, 30))},
            "worse": {"m1": list(base - 0.3)},
        }
    )
    tables = build_tables(records, SPECS)
    table = tables.leaderboard[tables.leaderboard["metric"] == "m1"].set_index("explainer")
    assert table.loc["best", "mean_rank"] == table.loc["noise", "mean_rank"]  # 1e-12 apart: tied in every block
    assert table.loc["worse", "mean_rank"] == 4.0 and table.loc["worse", "rank"] == 4
    assert not set(table.loc["worse", "group"]) & set(table.loc["best", "group"])
    assert "a" in table.loc["close", "group"]  # a 0.01 wobble around the best is not separated from it
    comparison = tables.comparisons[("t", "m1", "")]
    assert comparison.test == "friedman+nemenyi" and comparison.n_blocks == 30
    tests = tables.tests.set_index("score").loc["m1"]
    assert tests["p_value"] < 1e-6 and tests["critical_difference"] == pytest.approx(0.856, abs=1e-3)


def test_an_explainer_defined_on_too_few_instances_is_left_out_with_the_reason():
    """Tags faithfulness: source explainers have values on 6 of 20 clips; ranking everyone on the 6 common
    clips would pull every comparison down to a test that can never separate anyone."""
    rng = np.random.default_rng(2)
    values = {e: {"m1": list(rng.random(20) + shift)} for e, shift in (("a", 1.0), ("b", 0.0), ("c", 0.5))}
    values["sources"] = {"m1": [0.9] * 6 + [None] * 14}
    tables = build_tables(records_of(values), SPECS)
    comparison = tables.comparisons[("t", "m1", "")]
    assert "sources" in comparison.left_out and comparison.n_blocks == 20 and MIN_COVERAGE * 20 > 6
    row = tables.leaderboard.set_index(["metric", "explainer"]).loc[("m1", "sources")]
    assert row["status"].startswith("not ranked: defined on 6 of the 20") and row["rank"] is pd.NA
    assert row["n"] == 6 and row["mean"] == pytest.approx(0.9)  # its value is still shown


def test_explainers_are_compared_within_their_family():
    records = records_of({"s1": {"m1": [1.0] * 8}, "s2": {"m1": [0.0] * 8}, "g1": {"m1": [0.5] * 8}})
    families = {"s1": "source", "s2": "source", "g1": "segmentation"}
    tables = build_tables(records, SPECS, families=families)
    assert tables.comparisons[("t", "m1", "source")].explainers == ("s1", "s2")
    alone = tables.comparisons[("t", "m1", "segmentation")]  # g1 alone in its family: ranked against nobody
    assert alone.explainers == () and alone.left_out == {"g1": "only one explainer has values here"}
    table = tables.leaderboard[tables.leaderboard["metric"] == "m1"].set_index("explainer")
    assert table.loc["s1", "family"] == "sources" and table.loc["g1", "status"].startswith("not ranked")


def test_the_verdict_across_tasks_ranks_tasks_as_blocks():
    per_task = {"a": 3.0, "b": 2.0, "c": 1.0}
    records = [
        r
        for task in ("t1", "t2", "t3", "t4", "t5")
        for r in records_of({e: {"m1": [v] * 6} for e, v in per_task.items()}, task=task)
    ]
    # t6: d (on this task only) first, then b, c, a
    records += records_of({e: {"m1": [v] * 6} for e, v in (("a", 0.0), ("b", 2.0), ("c", 1.0), ("d", 3.0))}, "t6")
    tables = build_tables(records, SPECS)
    combined = tables.verdicts[(ALL_TASKS, "")]
    ranks = dict(zip(combined.explainers, combined.mean_ranks))
    # ranks among a, b, c per task: 1, 2, 3 on t1-t5 and 3, 1, 2 on t6; d ran on one task: not across tasks
    assert ranks == pytest.approx({"a": 8 / 6, "b": 11 / 6, "c": 17 / 6}) and combined.explainers == ("a", "b", "c")
    # Friedman chi2 = 12 N / (k (k + 1)) * (sum R^2 - k (k + 1)^2 / 4) = 7.0 (p = 0.030); CD(3, 6) = 1.353
    assert combined.statistic == pytest.approx(7.0) and combined.critical_difference == pytest.approx(1.353, abs=1e-3)
    assert combined.test == "friedman+nemenyi" and combined.n_blocks == 6
    assert combined.left_out == {"d": "has an overall verdict on 1 of the 6 tasks"}
    groups = dict(zip(combined.explainers, combined.groups))
    assert not set(groups["a"]) & set(groups["c"]) and set(groups["b"]) & set(groups["a"])  # 1.5 > CD > 0.5
    overall = tables.overall
    assert set(overall[overall["task"] == ALL_TASKS]["explainer"]) == {"a", "b", "c"}


def test_a_verdict_that_does_not_separate_a_control_from_the_best_says_it_does_not_decide():
    from audiox_bench.results.claims import VerdictSummary, verdict_line

    rng = np.random.default_rng(0)
    n = 12
    good, noise = list(3.0 + rng.normal(0, 0.1, n)), list(rng.normal(0, 1, n))
    decisive = build_tables(records_of({"slime": {"m1": good}, "random": {"m1": noise}}), SPECS)
    said = VerdictSummary.of(decisive.verdicts[("t", "")])
    assert (
        said.best == "slime"
        and said.controls_tied == ()
        and "decisive" not in verdict_line(decisive.verdicts[("t", "")])
    )
    close = [g - 0.01 if i < 7 else g + 0.01 for i, g in enumerate(good)]  # below slime on 7 of 12: no test says
    tied = build_tables(records_of({"slime": {"m1": good}, "shuffled:over=slime": {"m1": close}}), SPECS)
    line = verdict_line(tied.verdicts[("t", "")])
    assert "**Not decisive: the control shuffled:over=slime is not separated from the best" in line
    best_is_control = build_tables(records_of({"energy": {"m1": good}, "slime": {"m1": noise}}), SPECS)
    assert "the best is a control (energy" in VerdictSummary.of(best_is_control.verdicts[("t", "")]).caveat()
