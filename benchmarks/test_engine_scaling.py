"""Speed-up of scaling out: the same run in this process, on a local process pool and on a Dask
LocalCluster of 1 and 2 workers (each worker single-threaded; in process, torch uses every core)."""

import pytest

from audiox_bench.engine.executors import EngineSpec
from audiox_bench.engine.run_spec import RunSpec
from audiox_bench.engine.runner import run_benchmark

SPEC = RunSpec(
    tasks=("vocals",), explainers=("slime:content=zero|mean_inp|min_inp",), metrics=("topk_overlap",), n_examples=40
)
ENGINES = {
    "in process": EngineSpec(),
    "process pool of 2": EngineSpec(jobs=2),
    "dask, 1 worker": EngineSpec(dask_local=1),
    "dask, 2 workers": EngineSpec(dask_local=2),
}


@pytest.mark.parametrize("engine", list(ENGINES))
def test_run_time_by_engine(benchmark, vocals_task, engine):
    if ENGINES[engine].dask_local:
        pytest.importorskip("dask.distributed")
    result = benchmark.pedantic(
        run_benchmark, args=(SPEC,), kwargs={"progress": False, "engine": ENGINES[engine]}, rounds=2, iterations=1
    )
    explaining = sum(r.seconds for r in result.records)
    benchmark.extra_info.update(seconds=benchmark.stats.stats.median, explanation_seconds=explaining)
    print(
        f"\n{engine}: {benchmark.stats.stats.median:.1f} s wall, {explaining:.1f} s inside explanations "
        f"({len(result.records)} explanations)"
    )
