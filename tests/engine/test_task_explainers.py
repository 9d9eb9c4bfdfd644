"""Explainers chosen per task: a preset runs on a real model only what it can afford there, and a run
directory remembers which explainers ran on which task."""

from dataclasses import replace

import pytest

from audiox_bench.core import registry
from audiox_bench.core.errors import AudioxError
from audiox_bench.engine.plan import Benchmark
from audiox_bench.engine.presets import PRESETS, make_spec
from audiox_bench.engine.run_spec import RunSpec
from audiox_bench.engine.runner import run_benchmark
from tests.conftest import TINY_CONFOUND_SPEC


def twin(device: str = "cpu"):
    """The tiny confound task (its cached model) under a second name."""
    return registry.tasks.build(TINY_CONFOUND_SPEC, device=device)


registry.tasks.add("twin", twin)
SPEC = RunSpec(
    tasks=(TINY_CONFOUND_SPEC, "twin"),
    explainers=("random", "occlusion:over=slime"),
    task_explainers={"twin": ("random:over=slime",)},
    metrics=("faithfulness_correlation",),
    n_examples=2,
)


def pairs(records):
    return sorted({(r.task.split(":")[0], r.explainer) for r in records})


def test_a_task_runs_its_own_explainers_and_an_extension_adds_only_what_is_new(tiny_confound, tmp_path):
    out = tmp_path / "run"
    first = run_benchmark(SPEC, out=out, progress=False)
    assert pairs(first.records) == [
        ("confound", "occlusion:over=slime"),
        ("confound", "random"),
        ("twin", "random:over=slime"),
    ]
    assert len(first.records) == 3 * 2
    assert set(first.leaderboard[first.leaderboard["task"] == "twin"]["explainer"]) == {"random:over=slime"}
    # Adding an explainer to one task extends the run: the records already made are kept as they were.
    more = replace(SPEC, task_explainers={"twin": ("random:over=slime", "occlusion:over=slime")})
    extended = run_benchmark(more, out=out, progress=False)
    kept = {r.key: r.seconds for r in first.records}
    assert len(extended.records) == 4 * 2
    assert all(r.seconds == kept[r.key] for r in extended.records if r.key in kept)
    # Leaving out a pair the run has (occlusion on the twin) is refused, naming the pair.
    with pytest.raises(AudioxError, match=r"not run on the same task here: occlusion:over=slime on twin"):
        run_benchmark(SPEC, out=out, progress=False)


def test_explainers_for_a_task_not_in_the_run_are_an_error():
    with pytest.raises(AudioxError, match="task 'tags', which is not a task of the run"):
        RunSpec(tasks=("confound",), task_explainers={"tags": ("audiolime",)})
    with pytest.raises(AudioxError, match="at least one explainer is needed for task 'confound'"):
        RunSpec(tasks=("confound",), task_explainers={"confound": ()})


def test_the_default_benchmark_runs_on_tags_what_it_can_afford():
    bench = Benchmark.build(PRESETS["default"]())
    on_tags = next(names for task, names in bench.task_explainers.items() if task.startswith("tags"))
    on_confound = next(names for task, names in bench.task_explainers.items() if task.startswith("confound"))
    sampling_slime = [n for n in on_confound if n.startswith("slime") or n in ("kernelshap:over=slime",)]
    assert sampling_slime and not set(sampling_slime) & set(on_tags)
    assert {"audiolime", "kernelshap", "occlusion", "random", "gradient"} <= set(on_tags)
    assert "captum:method=ShapleyValueSampling,over=audiolime" in on_tags
    assert set(on_tags) - set(on_confound) == {
        f"captum:method={m},over=audiolime" for m in ("ShapleyValueSampling", "KernelShap", "Lime")
    }


def test_a_preset_keeps_its_choice_for_the_tasks_given_and_explainers_given_apply_to_every_task():
    assert make_spec("default", tasks=["tags:model=vgg_mtt"]).task_explainers == PRESETS["default"]().task_explainers
    assert make_spec("default", tasks=["confound"]).task_explainers == {}
    assert make_spec("default", explainers=["audiolime"]).task_explainers == {}


def test_the_python_api_takes_explainers_per_task(tiny_confound):
    from audiox_bench import api

    frame = api.run(
        tasks=[TINY_CONFOUND_SPEC, "twin"],
        explainers="random",
        task_explainers={"twin": "random:over=slime"},
        metrics="faithfulness_correlation",
        n_examples=1,
    )
    assert sorted(zip(frame["task"].str.split(":").str[0], frame["explainer"])) == [
        ("confound", "random"),
        ("twin", "random:over=slime"),
    ]


def test_run_json_lists_the_explainers_of_the_tasks_that_chose_them(tiny_confound):
    spec = Benchmark.build(SPEC).plan().to_dict()
    assert spec["task_explainers"] == {"twin": ["random:over=slime"]}
    assert spec["explainers"] == ["occlusion:over=slime", "random", "random:over=slime"]


def test_a_task_runs_its_own_number_of_examples_and_a_smaller_number_is_refused(tiny_confound, tmp_path):
    spec = replace(SPEC, task_examples={"twin": 4})
    out = tmp_path / "run"
    result = run_benchmark(spec, out=out, progress=False)
    examples = {
        name: len({r.example_id for r in result.records if r.task.split(":")[0] == name})
        for name in ("confound", "twin")
    }
    assert examples == {"confound": 2, "twin": 4}
    assert result.validity["twin"].examples.keys() == {r.example_id for r in result.records if r.task == "twin"}
    with pytest.raises(AudioxError, match="n_examples of twin 2 here, 4 in the run"):
        run_benchmark(SPEC, out=out, progress=False)
    with pytest.raises(AudioxError, match="examples are given for task 'tags', which is not a task of the run"):
        RunSpec(tasks=("confound",), task_examples={"tags": 3})
    assert make_spec("default", n_examples=7).task_examples == {}  # a number given applies to every task
