"""The musicnn port against the original TensorFlow graphs' outputs, the tags task, predict, and bring-your-own
stems and models."""

import importlib.util
import json
import subprocess
import sys
import warnings
from pathlib import Path

import librosa
import numpy as np
import pytest
import soundfile as sf
import torch

from audiox_bench.cli import main
from audiox_bench.core import registry
from audiox_bench.core.errors import AudioxError, InvalidInputError
from audiox_bench.models import musicnn
from audiox_bench.models.tensor_bundle import read_checkpoint
from audiox_bench.results.store import read_records
from audiox_bench.tasks.stems.singing import render_vocal_bank
from audiox_bench.tasks.stems.synthesis import render_role_bank
from audiox_bench.tasks.tags import TAG_SOURCES

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "data" / "musicnn_reference.npz"
MODEL_PLUGIN = str(ROOT / "examples" / "my_model.py")
# A small tags task: few stems, few validity clips, lenient thresholds so a handful of clips pass.
TINY_TAGS = "tags:n_stems=4,n_validity=12,min_kept=0"
needs_fixture = pytest.mark.skipif(not FIXTURE.is_file(), reason="the reference outputs live in ../shared/fixtures")


@pytest.fixture(scope="module")
def reference():
    return np.load(FIXTURE)


def test_the_checkpoint_reader_reads_every_tensor():
    tensors = read_checkpoint(musicnn.checkpoint_dir("MTT_musicnn"))
    assert len(tensors) == 150 and tensors["conv2d/kernel"].shape == (7, 38, 1, 204)
    assert tensors["dense_1/kernel"].dtype == np.float32 and np.isfinite(tensors["dense_1/kernel"]).all()


def test_a_broken_checkpoint_is_one_clear_error(tmp_path):
    (tmp_path / ".index").write_bytes(b"not a table" * 10)
    (tmp_path / ".data-00000-of-00001").write_bytes(b"")
    with pytest.raises(InvalidInputError, match="not a TensorFlow checkpoint index"):
        read_checkpoint(tmp_path)


def test_missing_musicnn_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(AudioxError, match=r"pip install --no-deps musicnn==0\.1\.0"):
        musicnn.checkpoint_dir("MTT_musicnn")


def test_the_front_end_is_librosas_log_mel_with_musicnns_rounding():
    audio = np.random.default_rng(0).normal(0, 0.1, (2, 48_000)).astype(np.float32)
    with torch.inference_mode():
        ours = musicnn.MusicnnLogMel()(torch.from_numpy(audio)).numpy()
    for clip, features in zip(audio, ours):
        mel = librosa.feature.melspectrogram(y=clip, sr=16_000, n_fft=512, hop_length=256, n_mels=96)[:, :187]
        expected = np.log10(10000 * mel.astype(np.float16).astype(np.float32) + 1)
        np.testing.assert_allclose(features, expected, atol=2e-3)


@needs_fixture
@pytest.mark.parametrize("name, key", [("musicnn_mtt", "MTT_musicnn__probs"), ("vgg_mtt", "MTT_vgg__probs")])
def test_the_port_reproduces_the_original_models(reference, name, key):
    model = registry.models.build(name)
    from_logmel = model.predict_features(reference["logmel_input"].transpose(0, 2, 1))
    from_audio = model.predict_proba(reference["audio"])
    assert np.abs(from_logmel - reference[key]).max() < 1e-4
    assert np.abs(from_audio - reference[key]).max() < 1e-3
    for ours, theirs in zip(from_audio, reference[key]):
        assert list(np.argsort(-ours)[:5]) == list(np.argsort(-theirs)[:5])


@needs_fixture
def test_relu_modules_leave_the_ports_outputs_bit_for_bit(reference):
    """The ports' nonlinearities are ``nn.ReLU`` modules (so DeepLift and guided backpropagation apply):
    their logits are those of the port before the change, to the bit (tests/data/README.md)."""
    before = np.load(FIXTURE.parent / "musicnn_port_logits.npz")
    features = torch.from_numpy(reference["logmel_input"]).transpose(1, 2)
    for name, load in (("musicnn", musicnn.load_musicnn), ("vgg", musicnn.load_vgg)):
        network = load()
        relus = [m for m in network.modules() if isinstance(m, torch.nn.ReLU)]
        assert len(relus) == len({id(m) for m in relus}) == {"musicnn": 9, "vgg": 5}[name]
        with torch.inference_mode():
            assert np.array_equal(network(features).numpy(), before[f"{name}_logits"])


@needs_fixture
def test_the_penultimate_layer_matches(reference):
    network = musicnn.load_musicnn()
    with torch.inference_mode():
        penultimate = network.penultimate(torch.from_numpy(reference["logmel_input"]).transpose(1, 2)).numpy()
    assert np.abs(penultimate - reference["MTT_musicnn__penultimate"]).max() < 1e-4


def test_musicnn_randomizes_from_the_back_end_down():
    model = registry.models.build("musicnn_mtt")
    assert model.n_layers() == 3 and model.multi_label
    trained = {k: v.clone() for k, v in model.network.state_dict().items()}
    back = model.randomized("cascading", layers=1, seed=0).network.state_dict()
    changed = {k.split(".")[0] for k, v in back.items() if not torch.equal(v, trained[k])}
    assert changed <= {"pool_norm", "dense", "dense_norm", "output"} and "output" in changed


@pytest.fixture(scope="module")
def tiny_tags(private_cache):
    task = registry.tasks.build(TINY_TAGS)
    task.prepare(progress=False)
    return task


def test_tags_serves_only_verified_clips_and_says_how_many(tiny_tags):
    chosen = tiny_tags.select(4)
    examples = chosen.examples
    assert examples, chosen.facts
    for example in examples:
        scores, tag = example.meta["scores"], example.meta["tag"]
        level = tiny_tags.levels[tag]
        assert scores["mix"] > level and scores["alone"] > level and scores["without"] <= 0.5 * scores["mix"]
        assert example.meta["truth_source"] in example.stems and tiny_tags.target_for(
            example
        ) == tiny_tags.model.classes.index(tag)
    selection = chosen.facts
    assert sum(selection["kept_per_tag"].values()) == len(examples) <= sum(selection["made_per_tag"].values())


def test_tags_truth_is_the_source_and_where_it_sounds(tiny_tags):
    example = tiny_tags.examples(1)[0]
    source = example.meta["truth_source"]
    sources = registry.explainers.build("audiolime").factorize(tiny_tags.model, example)
    assert tiny_tags.truth_for(example, sources).components == {source}
    timed = registry.explainers.build("audiolime:n_segments=4").factorize(tiny_tags.model, example)
    truth = tiny_tags.truth_for(example, timed).components
    assert truth and all(name.startswith(f"{source}@t") for name in truth)
    slime = registry.explainers.build("slime").factorize(tiny_tags.model, example)
    assert tiny_tags.truth_for(example, slime) is None


def test_tags_run_end_to_end(tiny_tags, tmp_path):
    assert (
        main(
            [
                "run",
                "--task",
                TINY_TAGS,
                "--explainer",
                "audiolime",
                "--explainer",
                "occlusion",
                "--n-examples",
                "3",
                "--out",
                str(tmp_path / "r"),
                "--no-progress",
            ]
        )
        == 0
    )
    records = read_records(tmp_path / "r")
    assert {r.target_name for r in records} <= set(musicnn.MTT_TAGS) and all(r.ok for r in records)
    validity = json.loads((tmp_path / "r" / "validity.json").read_text())
    assert "kept_per_tag" in next(iter(validity.values()))["selection"]


def _wav(path, audio, sr=16_000):
    sf.write(path, audio, sr, subtype="FLOAT")
    return path


def test_predict_prints_top_tags_and_json_averaging_windows(tiny_tags, tmp_path, capsys, monkeypatch):
    from audiox_bench.tasks import tags

    def no_data(*args, **kwargs):
        raise AssertionError("predict built the task's stems")

    monkeypatch.setattr(tags, "open_stem_source", no_data)  # predicting needs the model only
    example = tiny_tags.examples(1)[0]
    covered = _wav(tmp_path / "covered.wav", np.concatenate([example.audio, example.audio, example.audio[:8000]]))
    assert main(["predict", str(covered), "--task", TINY_TAGS, "--top", "3"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("mean over 3 window(s) of 3 s covering the file") and len(printed) == 4
    long = _wav(tmp_path / "long.wav", np.concatenate([example.audio, example.audio]))
    assert main(["predict", str(long), "--task", TINY_TAGS, "--json"]) == 0
    tags = json.loads(capsys.readouterr().out)
    expected = tiny_tags.model.predict_proba(example.audio)[0]
    assert list(tags) == list(musicnn.MTT_TAGS) and np.allclose(list(tags.values()), expected, atol=1e-5)
    short = _wav(tmp_path / "short.wav", example.audio[:20_000])
    assert main(["predict", str(short), "--task", TINY_TAGS, "--json"]) == 0
    assert main(["predict", str(tmp_path / "missing.wav"), "--task", TINY_TAGS]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_predict_works_for_any_task_without_making_its_data(tiny_confound, tmp_path, capsys, monkeypatch):
    from audiox_bench.tasks.confound import ConfoundTask
    from tests.conftest import TINY_CONFOUND_SPEC

    clip = _wav(tmp_path / "clip.wav", tiny_confound.examples(1)[0].audio)
    expected = tiny_confound.model.predict_proba(tiny_confound.examples(1)[0].audio)[0]

    def no_data(*args, **kwargs):
        raise AssertionError("predict made the task's data")

    monkeypatch.setattr(ConfoundTask, "_audio_set", no_data)  # the cached model is loaded as remembered valid
    monkeypatch.setattr(ConfoundTask, "_accuracy", no_data)
    assert main(["predict", str(clip), "--task", TINY_CONFOUND_SPEC, "--json"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert list(said) == ["guitar", "piano"] and np.allclose(list(said.values()), expected, atol=1e-6)


def _stems(roles, seed=0, seconds=4.0, sr=22_050):
    return {role: render_role_bank(role, 1, seed + i, sr, seconds)[0] for i, role in enumerate(roles)}


def slakh_tree(root: Path, n_tracks: int = 6) -> Path:
    classes = {
        "piano": ("Piano", False),
        "guitar": ("Guitar", False),
        "bass": ("Bass", False),
        "drums": ("Drums", True),
        "strings": ("Strings", False),
    }
    for t in range(n_tracks):
        folder = root / f"Track{t:05d}"
        (folder / "stems").mkdir(parents=True)
        lines = ["UUID: x", "stems:"]
        for s, (role, audio) in enumerate(_stems(classes, seed=10 * t).items()):
            sf.write(folder / "stems" / f"S{s:02d}.flac", audio, 22_050)
            inst_class, is_drum = classes[role]
            lines += [f"  S{s:02d}:", f"    inst_class: {inst_class}", f"    is_drum: {str(is_drum).lower()}"]
        (folder / "metadata.yaml").write_text("\n".join(lines) + "\n")
    return root


def musdb_tree(root: Path, n_tracks: int = 6) -> Path:
    for t in range(n_tracks):
        folder = root / "train" / f"Artist - Song {t}"
        folder.mkdir(parents=True)
        for role, audio in _stems(("drums", "bass", "strings", "piano"), seed=10 * t).items():
            name = {"strings": "other", "piano": "vocals"}.get(role, role)  # any audio will do for a layout test
            _wav(folder / f"{name}.wav", audio, 22_050)
    return root


def test_tags_and_confound_run_on_a_slakh_tree(tmp_path, capsys):
    tree = slakh_tree(tmp_path / "slakh")
    spec = f"tags:stems={tree},n_stems=4,n_validity=12,min_kept=0,present=0.05,necessity=0.05"
    code = main(["run", "--task", spec, "--n-examples", "2", "--out", str(tmp_path / "tags"), "--no-progress"])
    assert code == 0, capsys.readouterr().err
    confound = f"confound:stems={tree},n_stems=5,n_train=40,epochs=1,n_validity=4,max_attempts=1"
    assert main(
        ["run", "--task", confound, "--n-examples", "2", "--out", str(tmp_path / "confound"), "--no-progress"]
    ) in (0, 2)  # 2: the tiny model may fail its validity check; it ran on the tree
    assert (
        json.loads(
            (
                tmp_path / "confound" / "models" / next(p.name for p in (tmp_path / "confound" / "models").iterdir())
            ).read_text()
        )["n_train"]
        == 40
    )


def musdb_like(root: Path, n_tracks: int = 14) -> Path:
    """A MUSDB18-HQ tree of synthesised stems: the formant singer as vocals, strings as other."""
    for t in range(n_tracks):
        folder = root / f"Artist {t} - Song"
        folder.mkdir(parents=True)
        stems = _stems(("drums", "bass", "strings"), seed=10 * t, seconds=6.0)
        stems["vocals"] = render_vocal_bank(1, 10 * t + 7, 22_050, 6.0)[0]
        for role, audio in stems.items():
            sf.write(folder / f"{'other' if role == 'strings' else role}.wav", audio, 22_050)
    return root


def test_a_musdb_tree_is_measured_per_tag_with_the_default_thresholds(tmp_path, capsys):
    """Every MUSDB18-HQ mix used to hold every source (``other`` was dropped, 3 roles, 3 per mix), so every
    tag's level was 1 and validity failed with no reason: 'other' is now mixed in as a non-tag source and a
    mix holds all roles but one, so each tag's level is measured. Whether a tag is then served is the
    model's verdict on the audio: musicnn hears the synthetic drums as drums but not the formant singer as a
    vocal, and the check says so per tag."""
    tree = musdb_like(tmp_path / "musdb")
    spec = f"tags:stems={tree},n_stems=12,n_validity=80"  # default thresholds
    out = tmp_path / "run"
    main(["run", "--task", spec, "--explainer", "occlusion", "--n-examples", "3", "--out", str(out), "--no-progress"])
    (entry,) = json.loads((out / "validity.json").read_text()).values()
    (check,) = entry["checks"]
    assert check["why"].startswith("served: drums")
    assert "its level is 1" not in check["why"] and "vocal: kept 0 of " in check["why"]
    card = json.loads(next((out / "models").iterdir()).read_text())
    assert {"drums", "vocals", "bass", "other"} <= set(card["stems"]["roles"])
    assert max(card["levels"].values()) < 1.0


def test_a_track_missing_a_stem_is_named_and_a_single_track_is_refused(tmp_path, capsys):
    from audiox_bench.tasks.stems.multitrack import find_tracks

    tree = musdb_tree(tmp_path / "musdb", n_tracks=3)
    broken = next(tree.glob("train/*"))
    (broken / "drums.wav").unlink()
    assert len(find_tracks(tree)) == 2
    assert f"warning: skipping MUSDB18-HQ track {str(broken)!r}: it has no drums.wav" in capsys.readouterr().err
    single = next(tree.glob("train/*"))
    with pytest.raises(InvalidInputError, match="is one track, not a dataset: give the folder that holds the track"):
        find_tracks(single)


def test_a_failed_validity_check_says_why_per_tag(tmp_path, capsys):
    tree = musdb_like(tmp_path / "musdb", n_tracks=6)
    spec = f"tags:stems={tree},n_stems=4,n_validity=12"  # too few validity clips for any tag
    assert main(["run", "--task", spec, "--n-examples", "2", "--out", str(tmp_path / "run"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "error: tasks failed their validity check: tags" in err
    assert "tags_served = " in err and ": the candidate of " in err and "(needs 10)" in err
    page = (tmp_path / "run" / "leaderboard.html").read_text()
    assert "failed its validity check" in page and "the candidate of" in page


def test_a_run_that_serves_no_example_is_exit_2_with_the_reason(tmp_path, capsys):
    tree = musdb_like(tmp_path / "musdb", n_tracks=6)
    spec = f"tags:stems={tree},n_stems=4,n_validity=12,min_kept=0,present=0.999"  # nothing can pass
    assert main(["run", "--task", spec, "--n-examples", "2", "--out", str(tmp_path / "run"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "serves 0 of the 2 examples asked for: the verification kept 0 of the" in err
    assert "error: tasks served no example: tags" in err


def test_a_musdb_tree_serves_its_roles(tmp_path):
    from audiox_bench.tasks.stems.multitrack import DatasetStems

    source = DatasetStems(
        str(musdb_tree(tmp_path / "musdb")),
        ("vocals", "drums", "bass", "piano"),
        {"train": 2, "val": 2, "test": 2},
        0,
        16_000,
        1.0,
    )
    assert source.roles == ("vocals", "drums", "bass")  # piano: not a MUSDB18 stem
    bank = source.split("test")
    assert bank["drums"].shape == (2, 16_000) and np.isfinite(bank["drums"]).all()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda root: root / "nowhere", "does not exist"),
        (lambda root: (root.mkdir(), root)[1], "holds no Slakh2100 track"),
        (lambda root: ((root / "T1" / "stems").mkdir(parents=True), root)[1], "has stems but no metadata.yaml"),
        (
            lambda root: (
                (root / "T1").mkdir(parents=True),
                (root / "T1" / "metadata.yaml").write_text("stems: [\n"),
                root,
            )[2],
            "cannot read Slakh2100 metadata",
        ),
    ],
)
def test_bad_trees_are_one_line_naming_the_path(tmp_path, make, message):
    root = make(tmp_path / "data")
    out = subprocess.run(
        [sys.executable, "-m", "audiox_bench", "run", "--task", f"tags:stems={root}", "--no-progress"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 2 and out.stderr.startswith("error: ") and message in out.stderr
    assert out.stderr.count("\n") == 1


def test_an_unreadable_stem_is_named(tmp_path):
    tree = slakh_tree(tmp_path / "slakh", n_tracks=1)
    for flac in tree.rglob("*.flac"):
        flac.write_bytes(b"broken")
    from audiox_bench.tasks.stems.multitrack import DatasetStems

    source = DatasetStems(str(tree), ("piano", "drums"), {"train": 1, "val": 1, "test": 1}, 0, 16_000, 1.0)
    with pytest.raises(InvalidInputError, match=r"cannot read audio file .*S0"):
        source.split("test")


def test_a_model_plugin_passes_the_conformance_suite_and_runs_on_tags(tmp_path):
    check = subprocess.run(
        [sys.executable, "-m", "audiox_bench", "check", "--plugin", MODEL_PLUGIN],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout
    assert "ok   model instruments: agrees with its features path" in check.stdout
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "audiox_bench",
            "run",
            "--plugin",
            MODEL_PLUGIN,
            "--task",
            "tags:model=instruments,n_stems=4,n_validity=12,min_kept=0",
            "--n-examples",
            "2",
            "--out",
            str(tmp_path / "r"),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert {r.target_name for r in read_records(tmp_path / "r")} <= {
        "piano",
        "drums",
        "guitar",
        "strings",
        "violin",
        "vocal",
    }


def test_an_unknown_model_is_named_with_a_hint():
    with pytest.raises(AudioxError, match=r"unknown model 'musicnn' .*did you mean 'musicnn_mtt'"):
        registry.tasks.build("tags:model=musicnn")


def test_a_tags_level_is_what_mixes_without_its_source_rarely_reach(tiny_tags):
    """The level of a tag is the 95th percentile of its probability on validity mixes without its source."""
    task = registry.tasks.build(TINY_TAGS.replace("min_kept=0", "min_kept=0.5"))
    task.prepare(progress=False)
    absent: dict[str, list[float]] = {}
    for index in range(12):
        stems = task._stems("validity", index)
        probabilities = task.model.predict_proba(np.sum(np.stack(list(stems.values())), axis=0))[0]
        for tag, source in TAG_SOURCES.items():
            if source not in stems:
                absent.setdefault(tag, []).append(probabilities[task.model.classes.index(tag)])
    for tag, values in absent.items():
        assert task.levels[tag] == pytest.approx(np.quantile(values, 0.95), abs=1e-6)
    card = task.model_card
    made, kept = card["validity_made_per_tag"], card["validity_kept_per_tag"]
    for tag in made:  # served exactly when it was a candidate often enough and kept half of those
        assert (tag in task.served) == (made[tag] >= 10 and kept[tag] / made[tag] >= 0.5)
    assert (len(task.served) >= 2) == task.is_valid
    assert all(example.meta["tag"] in task.served for example in task.examples(3))


def test_pooling_before_relu_and_batch_norm_equals_the_direct_order():
    """musicnn's front end pools over frequency before its ReLU and batch norm (a speed-up); with channels
    of both signs of scale, the result equals relu -> batch norm -> max bit for bit."""
    from torch.nn import functional

    from audiox_bench.models.musicnn import _max_over_frequency

    norm = musicnn._FrozenBatchNorm(6).eval()
    with torch.no_grad():
        norm.weight.copy_(torch.tensor([1.5, -2.0, 0.5, -0.1, 3.0, -1.0]))
        norm.running_mean.copy_(torch.linspace(-1, 1, 6))
        norm.running_var.copy_(torch.linspace(0.5, 2, 6))
        maps = torch.randn(4, 6, 20, 30, generator=torch.Generator().manual_seed(0))
        direct = norm(functional.relu(maps)).amax(dim=3)
        assert torch.equal(_max_over_frequency(maps, norm, torch.nn.ReLU()), direct)


def test_guided_grad_cam_is_captums_on_a_layer_over_time(tiny_tags):
    """musicnn's default layer (the mid-end convolution) has one position per frame, where Captum's own
    GuidedGradCam upsamples correctly: our composition (guided backpropagation x the upsampled Grad-CAM)
    equals it to float32 rounding. DeepLift and guided backpropagation apply to musicnn (ReLU modules)."""
    captum_attr = pytest.importorskip("captum.attr")
    from audiox_bench.explainers.captum_layers import layer_cells
    from audiox_bench.explainers.captum_methods import _Probability, _relu_modules

    model = tiny_tags.model
    example = tiny_tags.examples(1)[0]
    explainer = registry.explainers.build("captum:method=GuidedGradCam")
    factorization = explainer.factorize(model, example)
    network = _relu_modules(model.network)
    forward = _Probability(model, network).eval()
    inputs = torch.tensor(factorization.features[None])
    target = tiny_tags.target_for(example)
    with torch.enable_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Captum's notes on the hooks it sets
        ours = layer_cells(captum_attr, "GuidedGradCam", forward, network, inputs, inputs, target, None, "nearest", 50)
        layer = network.get_submodule(network.cam_layer)
        theirs = captum_attr.GuidedGradCam(forward, layer).attribute(inputs, target=target)[0].detach().numpy()
    # measured: max |difference| 8.8e-13 (ours multiplies in float64, Captum in float32)
    assert np.abs(ours - theirs).max() <= 1e-6 * np.abs(theirs).max() and np.abs(theirs).max() > 0
    for method in ("DeepLift", "GuidedBackprop", "Deconvolution", "LayerGradCam"):
        explainer = registry.explainers.build(f"captum:method={method}")
        weights = explainer.explain(model, example, factorization, target, 0).weights
        assert np.isfinite(weights).all() and np.abs(weights).max() > 0, method


def test_dominance_and_segment_rules_on_known_games():
    """Known answers: in an additive game the loudest source adds the most in every coalition (share 1) and
    the quietest in none; segments whose removal takes a tenth of the whole drop are the truth, unless more
    than half of them do."""
    from audiox_bench.tasks.tag_verification import dominance_share, segment_drops, verified_segments

    stems = {role: np.full(100, value, np.float32) for role, value in (("a", 1.0), ("b", 2.0), ("c", 3.0))}

    def mean_level(mixes):
        return mixes.mean(axis=1, keepdims=True)

    assert dominance_share(mean_level, stems, "c", 0) == 1.0
    assert dominance_share(mean_level, stems, "a", 0) == 0.0
    drops = segment_drops(mean_level, stems, "c", np.array([0, 10, 50, 100]), 0)
    np.testing.assert_allclose(drops, [0.3, 1.2, 1.5], rtol=1e-6)  # 3 x 10, 40, 50 of 100 samples (float32)
    assert verified_segments(np.array([0.5, 0.05, 0.0, 0.2]), 1.0, 0.1) == [0, 3]
    assert verified_segments(np.array([0.3, 0.3, 0.3, 0.1]), 1.0, 0.1) == []  # all four: none stands out
    assert verified_segments(np.array([0.3, 0.3]), 0.0, 0.1) == []


def test_stronger_rules_report_kept_per_rule_and_give_segments_a_truth(private_cache):
    task = registry.tasks.build(TINY_TAGS + ",dominance=0.5,timbre=true")
    task.prepare(progress=False)
    rules = task.model_card["validity_rules"]
    assert list(rules) == ["present", "necessary", "sufficient", "dominant", "timbre"]
    assert all(r["passed"] <= r["applied"] for r in rules.values())
    # the stronger rules are applied to the clips that pass the standard three, both to each of them
    standard = min(rules[r]["passed"] for r in ("present", "necessary", "sufficient"))
    assert rules["dominant"]["applied"] == rules["timbre"]["applied"] <= standard
    selection = task.select(3)
    assert set(selection.facts["rules"]) == set(rules)
    assert selection.facts["segment_truth"]["of"] == len(selection.examples)
    slime = registry.explainers.build("occlusion:over=slime")
    for example in selection.examples:
        assert example.meta["dominance"] >= 0.5 and set(example.meta["timbre"]) == {"same_role", "other_role"}
        truth = task.ground_truth(example, slime.factorize(task.model, example))
        verified = example.meta["verified_segments"]
        assert (truth is None) == (not verified)
        if truth is not None:
            assert truth.components == frozenset(f"t{k}" for k in verified) and len(verified) <= 5
            assert len(task.truth_spans(example).intervals) == len(verified)
