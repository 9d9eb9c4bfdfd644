"""Benchmarks run on the default task models (trained once and cached under $AUDIOX_CACHE).

Run with ``python -m pytest benchmarks --benchmark-only`` (not part of the test suite: timings are
measured and reported, never asserted).
"""

import pytest

from audiox_bench.engine.allocator import keep_freed_memory


@pytest.fixture(scope="session", autouse=True)
def run_conditions():
    """The allocator setting every run (and worker) uses, so timings here are those of a run."""
    keep_freed_memory()


@pytest.fixture(scope="session")
def vocals_task():
    from audiox_bench.core.registry import tasks

    task = tasks.build("vocals")
    task.prepare(progress=False)
    return task


@pytest.fixture(scope="session")
def confound_task():
    from audiox_bench.core.registry import tasks

    task = tasks.build("confound")
    task.prepare(progress=False)
    return task


@pytest.fixture(scope="session")
def vocals_audio_task(vocals_task):
    from audiox_bench.core.registry import tasks

    task = tasks.build("vocals:form=audio")
    task.prepare(progress=False)
    return task


@pytest.fixture(scope="session")
def tags_task():
    from audiox_bench.core.registry import tasks

    task = tasks.build("tags")
    task.prepare(progress=False)
    return task
