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
