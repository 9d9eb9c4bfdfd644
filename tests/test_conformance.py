"""The conformance suite (audiox_bench.testing) on every built-in, and `audiox check` on good and broken plugins."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from audiox_bench import testing
from audiox_bench.core import registry
from tests.conftest import TINY_ADVERSARIAL_SPEC, TINY_CONFOUND_SPEC, TINY_VOCALS_SPEC

EXAMPLE_PLUGIN = str(Path(__file__).resolve().parents[1] / "examples" / "my_explainer.py")


def failures(results):
    return [str(r) for r in results if not r.passed]


@pytest.mark.parametrize("name", registry.explainers.names())
def test_every_builtin_explainer_conforms(tiny_confound, name):
    results = testing.check_explainer(name, TINY_CONFOUND_SPEC)
    assert len(results) == 6 and not failures(results)


@pytest.mark.parametrize("name", registry.metrics.names())
def test_every_builtin_metric_conforms(tiny_confound, name):
    assert not failures(testing.check_metric(name, TINY_CONFOUND_SPEC))


@pytest.mark.parametrize(
    "spec", [TINY_CONFOUND_SPEC, TINY_VOCALS_SPEC, TINY_ADVERSARIAL_SPEC], ids=["confound", "vocals", "adversarial"]
)
def test_every_builtin_task_conforms(tiny_confound, tiny_vocals, spec):
    results = testing.check_task(spec)
    assert len(results) == 4 and not failures(results)


def _check(*plugins):
    argv = [sys.executable, "-m", "audiox_bench", "check"]
    for plugin in plugins:
        argv += ["--plugin", str(plugin)]
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def test_audiox_check_passes_the_example_plugin(tiny_confound):
    out = _check(EXAMPLE_PLUGIN)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 6 and all(line.startswith("ok   explainer energy: ") for line in lines)


BROKEN = '''
import threading
import numpy as np
from audiox_bench import Explanation, register_explainer
from audiox_bench.explainers.audiolime import AudioLIME

@register_explainer("short_weights")
class ShortWeights(AudioLIME):
    """One weight too few."""
    def explain(self, model, example, factorization, target, seed):
        return Explanation(factorization.names, np.ones(factorization.n_components - 1), target)

@register_explainer("unpicklable")
class Unpicklable(AudioLIME):
    """Holds a lock, which cannot be pickled for a worker process."""
    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()

@register_explainer("dice")
class Dice(AudioLIME):
    """Ignores the seed."""
    def explain(self, model, example, factorization, target, seed):
        return Explanation(factorization.names, np.random.random(factorization.n_components), target)
'''


def test_audiox_check_names_each_failed_check_on_one_line(tiny_confound, tmp_path):
    plugin = tmp_path / "broken_plugin.py"
    plugin.write_text(textwrap.dedent(BROKEN))
    out = _check(plugin)
    assert out.returncode == 2 and "Traceback" not in out.stdout + out.stderr
    failed = [line for line in out.stdout.splitlines() if line.startswith("FAIL")]
    assert any(
        line.startswith("FAIL explainer short_weights: returns finite weights, one per component: weights of shape (")
        for line in failed
    ), failed
    assert any(
        line.startswith("FAIL explainer unpicklable: pickles for worker processes: raised TypeError") for line in failed
    ), failed
    assert any(
        line.startswith("FAIL explainer dice: is deterministic under a fixed seed: two explanations") for line in failed
    ), failed
    assert all(line.count("\n") == 0 for line in failed)


def test_audiox_check_needs_a_plugin_that_registers_something(tmp_path):
    empty = tmp_path / "empty_plugin.py"
    empty.write_text("x = 1\n")
    out = _check(empty)
    assert out.returncode == 2 and "registers nothing" in out.stdout
