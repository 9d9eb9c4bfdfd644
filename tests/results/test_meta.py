"""The meta-evaluation's criteria on frames with known answers."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from audiox_bench.engine.rescore import DISRUPTIVE, MINOR, ORIGINAL, Perturbation
from audiox_bench.results import meta

EXPLAINERS = ("good", "fair", "poor", "random:over=slime", "energy:over=slime")


def frame(values: dict[tuple[str, str, str], np.ndarray], n: int = 8) -> pd.DataFrame:
    """Rows for (metric, setting, variant) -> values [shape=(n_explainers, n_instances)]."""
    rows = []
    for (metric, setting, variant), table in values.items():
        for e, explainer in enumerate(EXPLAINERS):
            for i in range(n):
                rows.append(
                    {
                        "task": "vocals",
                        "explainer": explainer,
                        "example": f"x{i}",
                        "metric": metric,
                        "setting": setting,
                        "variant": variant,
                        "value": table[e, i],
                    }
                )
    return pd.DataFrame(rows)


def planted(levels, n=8, seed=0, spread=0.01):
    rng = np.random.default_rng(seed)
    return np.asarray(levels, float)[:, None] + rng.normal(0, spread, (len(levels), n))


TRUTH = planted([0.9, 0.6, 0.4, 0.2, 0.1])


def test_a_metric_that_orders_explainers_as_the_truth_does_agrees_fully_and_its_reverse_not_at_all():
    values = frame(
        {
            ("topk_overlap", "topk_overlap", ORIGINAL): TRUTH,
            ("relevance_mass", "relevance_mass", ORIGINAL): TRUTH * 0.5,  # same order
            ("insertion", "insertion", ORIGINAL): -TRUTH,  # the reverse order
            ("deletion", "deletion", ORIGINAL): -TRUTH,  # lower is better: the same order
        }
    )
    truth = meta.value_table(values, "topk_overlap", ORIGINAL)
    for metric, expected in (("relevance_mass", 1.0), ("insertion", -1.0), ("deletion", 1.0)):
        tau, low, high, n_e, n_i = meta.truth_agreement(meta.value_table(values, metric, ORIGINAL), truth)
        assert (tau, low, high) == pytest.approx((expected, expected, expected)) and (n_e, n_i) == (5, 8)


def test_kendall_is_scipys_tau_b_over_shared_explainers():
    a = pd.Series([1.0, 2.0, 3.0, 4.0], index=list("abcd"))
    b = pd.Series([1.0, 3.0, 2.0, 4.0, 9.0], index=list("abcde"))
    assert meta.kendall(a, b) == pytest.approx(4 / 6)  # 5 concordant, 1 discordant pair
    assert meta.kendall(a, b) == stats.kendalltau(a, b[list("abcd")]).statistic
    assert np.isnan(meta.kendall(a, pd.Series(1.0, index=list("abcd"))))  # a constant ranking


def test_the_interval_widens_when_instances_disagree():
    noisy = planted([0.9, 0.6, 0.4, 0.2, 0.1], spread=0.5, seed=3)
    values = frame(
        {("topk_overlap", "topk_overlap", ORIGINAL): TRUTH, ("pointing_game", "pointing_game", ORIGINAL): noisy}
    )
    tau, low, high, *_ = meta.truth_agreement(
        meta.value_table(values, "pointing_game", ORIGINAL), meta.value_table(values, "topk_overlap", ORIGINAL)
    )
    assert low < tau <= high and high - low > 0.3


def test_controls_below_reactivity_and_resilience_have_their_known_values():
    original = planted([0.9, 0.6, 0.05, 0.2, 0.1])  # 'poor' is below the controls
    disrupted = original.copy()
    disrupted[:3, :4] -= 0.5  # half of the non-controls' instances get worse, the rest stay
    values = frame(
        {
            ("topk_overlap", "topk_overlap", ORIGINAL): TRUTH,
            ("relevance_mass", "relevance_mass", ORIGINAL): original,
            ("relevance_mass", "relevance_mass", MINOR): original[[1, 0, 2, 3, 4]],  # good and fair swap
            ("relevance_mass", "relevance_mass", DISRUPTIVE): disrupted,
            ("relevance_mass", "relevance_mass:sign=abs", ORIGINAL): -original,  # the reverse order
        }
    )
    rows = {r.criterion: r for r in meta.evaluate(values) if r.metric == "relevance_mass"}
    assert rows["controls below"].value == pytest.approx(2 / 3)
    assert rows["adversarial reactivity"].value == 0.5 and rows["adversarial reactivity"].note == "24 pairs"
    assert rows["noise resilience"].value == pytest.approx(0.8)  # one discordant pair of 10
    assert rows["setting agreement"].value == pytest.approx(-1.0)
    assert "relevance_mass:sign=abs: -1.00" in rows["setting agreement"].note


def test_instances_without_truth_are_left_out_and_thin_explainers_are_not_ranked():
    truth = TRUTH.copy()
    truth[:, 6:] = np.nan  # no truth on two instances
    truth[1, :3] = np.nan  # 'fair' covers 3 of 6: not ranked
    table = meta.value_table(frame({("topk_overlap", "topk_overlap", ORIGINAL): truth}), "topk_overlap", ORIGINAL)
    assert table.shape == (6, 4) and "fair" not in table.columns


def test_the_perturbations_keep_values_permute_and_are_seeded():
    weights = np.array([3.0, 1.0, 0.5, -1.0, 0.0])
    p = Perturbation(0.1)
    assert np.array_equal(p.weights(ORIGINAL, weights, 7), weights)
    assert sorted(p.weights(DISRUPTIVE, weights, 7)) == sorted(weights)
    assert np.array_equal(p.weights(MINOR, weights, 7), p.weights(MINOR, weights, 7))
    assert np.abs(p.weights(MINOR, weights, 7) - weights).max() < 0.6 * weights.std()


def test_kinds_of_component_are_evaluated_apart():
    values = frame({("topk_overlap", "topk_overlap", ORIGINAL): TRUTH, ("deletion", "deletion", ORIGINAL): -TRUTH})
    values["family"] = values.explainer.map(lambda e: "source" if e in ("good", "poor", "random:over=slime") else "")
    rows = meta.evaluate(values)
    assert {(r.family, r.n_explainers) for r in rows if r.criterion == "truth agreement"} == {
        ("sources", 3),
        ("all", 2),
    }
