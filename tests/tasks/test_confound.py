import numpy as np
import pytest
import torch

from audiox_bench.core.errors import ValidityError
from audiox_bench.core.registry import tasks
from audiox_bench.factorizations.sources import SourceFactorization
from audiox_bench.models.networks import build_network
from audiox_bench.models.training import TrainingConfig, train_network
from tests.conftest import TINY_CONFOUND


def test_tiny_model_learns_the_confound(tiny_confound):
    checks = {c.name: c for c in tiny_confound.validity_checks}
    assert checks["accuracy_t_dr-gtr"].value >= 0.99
    assert checks["accuracy_t_dr-pno"].value <= 0.15
    card = tiny_confound.model_card
    assert card["n_parameters"] > 0 and card["training_seconds"] > 0 and card["train_seed"] == 0


def test_examples_are_deterministic_and_balanced(tiny_confound):
    a, b = tiny_confound.examples(6), tiny_confound.examples(4)
    assert [e.id for e in a[:4]] == [e.id for e in b]
    assert all(np.array_equal(x.audio, y.audio) for x, y in zip(a, b))
    assert [e.label for e in a] == [0, 1, 0, 1, 0, 1]
    for example in a:  # drums only with piano in t_dr-pno, and stems add up to the mix
        assert example.meta["has_drums"] == (example.label == 1) == ("drums" in example.stems)
        np.testing.assert_allclose(np.sum(list(example.stems.values()), axis=0), example.audio, atol=1e-6)


def test_ground_truth_for_sources_and_sources_x_time(tiny_confound):
    with_drums, without = tiny_confound.examples(2)[1], tiny_confound.examples(1)[0]
    truth = tiny_confound.ground_truth(with_drums, SourceFactorization(with_drums.stems))
    assert truth.components == {"drums"}
    timed = tiny_confound.ground_truth(with_drums, SourceFactorization(with_drums.stems, n_segments=3))
    assert timed.components == {"drums@t0", "drums@t1", "drums@t2"}
    assert tiny_confound.ground_truth(without, SourceFactorization(without.stems)) is None


def test_cached_model_is_reused(tiny_confound):
    again = tasks.build("confound", **TINY_CONFOUND)
    again.prepare(progress=False)
    assert again.model_card["cache"] == "loaded"
    audio = np.stack([e.audio for e in tiny_confound.examples(4)])
    np.testing.assert_array_equal(again.model.predict_proba(audio), tiny_confound.model.predict_proba(audio))


def test_corrupt_cached_model_is_rebuilt_not_loaded(tiny_confound, tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIOX_CACHE", str(tmp_path))
    params = {**TINY_CONFOUND, "n_train": 40, "epochs": 1}
    first = tasks.build("confound", **params)
    first.prepare(progress=False)
    entry = next((tmp_path / "models").iterdir())
    (entry / "model.pt").write_bytes(b"not a torch file")
    second = tasks.build("confound", **params)
    second.prepare(progress=False)
    assert second.model_card["cache"] == "trained"


def test_failed_validity_refuses_ground_truth(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIOX_CACHE", str(tmp_path))
    weak = tasks.build("confound", n_stems=5, n_train=10, epochs=1, n_validity=20, max_attempts=1)
    weak.prepare(progress=False)
    assert not weak.is_valid
    example = weak.examples(2)[1]
    with pytest.raises(ValidityError, match="validity"):
        weak.ground_truth(example, SourceFactorization(example.stems))


def test_training_is_deterministic():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(40, 128, 16)).astype(np.float32)
    labels = rng.integers(0, 2, 40)
    states = []
    for _ in range(2):
        net = build_network("vggish", 128, 2, seed=3)
        train_network(net, features, labels, TrainingConfig(epochs=2, seed=3), progress=False)
        states.append(net.state_dict())
    for key in states[0]:
        assert torch.equal(states[0][key], states[1][key]), key


def test_the_confound_strength_knob_changes_training_only_below_one(tiny_confound):
    """At strength 1 nothing is drawn (the default's mixes, so its cached model); below it, a share of the
    training mixes break the confound, and the checks report the reliance on drums."""
    from tests.conftest import TINY_CONFOUND_SPEC

    assert [c.name for c in tiny_confound.validity_checks][-1] == "drums_reliance"
    full = tasks.build(TINY_CONFOUND_SPEC + ",strength=1.0")
    weaker = tasks.build(TINY_CONFOUND_SPEC + ",strength=0.75")
    train = [full._clip("train", i)[2] for i in range(200)]
    broken = [weaker._clip("train", i)[2] for i in range(200)]
    assert train == [i % 2 == 0 for i in range(200)]  # drums exactly with guitar (label 0)
    flipped = np.mean([a != b for a, b in zip(train, broken)])
    assert 0.15 < flipped < 0.35  # about a quarter
    assert full._description(0) == tiny_confound._description(0) != weaker._description(0)
    with pytest.raises(ValueError, match="strength"):
        tasks.build("confound:strength=0.4")


def test_drums_confined_to_segments_give_a_truth_in_time(tiny_confound):
    from audiox_bench.core.registry import explainers
    from tests.conftest import TINY_CONFOUND_SPEC

    task = tasks.build(TINY_CONFOUND_SPEC + ",drum_segments=3")
    with_drums = [e for e in task.examples(4) if e.meta["has_drums"]]
    assert with_drums
    example = with_drums[0]
    times = example.meta["drum_segments"]
    assert len(times) == 3
    edges = np.round(np.linspace(0, example.audio.size, 11)).astype(int)
    drums = example.stems["drums"]
    silent = [k for k in range(10) if k not in times and k - 1 not in times and k + 1 not in times]
    for k in silent:  # away from the crossfades, no drums outside their segments
        assert np.abs(drums[edges[k] : edges[k + 1]]).max() == 0
    task.prepare(progress=False)  # the same model; the checks measured with the drums confined
    assert task.model_card["accuracy_val"] == tiny_confound.model_card["accuracy_val"]
    segments = explainers.build("slime").factorize(task.model, example)
    assert task.truth_for(example, segments).components == frozenset(f"t{k}" for k in times)
    over_time = explainers.build("audiolime:n_segments=10").factorize(task.model, example)
    assert task.truth_for(example, over_time).components == frozenset(f"drums@t{k}" for k in times)
    assert len(task.spans_for(example).intervals) == 3
