"""The task contract: truth is served only for the class it drives."""

from tests.conftest import TINY_CONFOUND_SPEC, run_records


def test_truth_is_not_served_for_a_class_it_does_not_drive(tiny_confound):
    records = run_records(TINY_CONFOUND_SPEC, ["occlusion"], ["topk_overlap"], n=6, target="piano")
    with_drums = [
        r for r in records if r.example_id in {e.id for e in tiny_confound.examples(6) if e.meta["has_drums"]}
    ]
    assert with_drums
    for record in with_drums:
        assert record.ground_truth is None and record.metrics["topk_overlap"] is None
        assert "drives class 'guitar'" in record.metric_notes["topk_overlap"]
    guitar = run_records(TINY_CONFOUND_SPEC, ["occlusion"], ["topk_overlap"], n=6, target="guitar")
    assert all(r.ground_truth == ["drums"] for r in guitar if r.example_id in {w.example_id for w in with_drums})
