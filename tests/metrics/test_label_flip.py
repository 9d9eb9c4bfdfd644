"""label_flip (Praher et al. 2021): what flips by construction is a diagnostic, never ranked."""

from audiox_bench.core.registry import metrics


def test_label_flips_by_construction_are_diagnostics():
    flip = metrics.build("label_flip")
    assert flip.value_spec("label_flip").role == "score"
    assert flip.value_spec("label_flip.all_positive").role == "diagnostic"
    assert flip.value_spec("label_flip.oracle").role == "diagnostic"
