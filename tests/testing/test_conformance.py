"""The conformance suite (audiox_bench.testing) on every built-in, and `audiox check` on good and broken plugins."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from audiox_bench import testing
from audiox_bench.core import registry
from audiox_bench.explainers.captum_layers import LAYER_METHODS
from audiox_bench.explainers.captum_methods import MODULE_METHODS
from audiox_bench.testing import CHECK_TASK
from tests.conftest import TINY_ADVERSARIAL_SPEC, TINY_CONFOUND_SPEC, TINY_VOCALS_SPEC

EXAMPLE_PLUGIN = str(Path(__file__).resolve().parents[2] / "examples" / "my_explainer.py")


BUILTIN_SUBJECTS = [
    *(("model", name, CHECK_TASK) for name in registry.models.names()),
    *(("task", spec, CHECK_TASK) for spec in (TINY_CONFOUND_SPEC, TINY_VOCALS_SPEC, TINY_ADVERSARIAL_SPEC)),
    *(("explainer", name, TINY_CONFOUND_SPEC) for name in registry.explainers.names()),
    # Captum's layer methods and the methods that follow ReLU modules, each as its own explainer
    *(("explainer", f"captum:method={method}", TINY_CONFOUND_SPEC) for method in (*LAYER_METHODS, *MODULE_METHODS)),
    *(("metric", name, TINY_CONFOUND_SPEC) for name in registry.metrics.names()),
]
_SUBJECTS: dict[tuple[str, str], testing.Subject] = {}


def _subject(kind: str, name: str, task: str) -> testing.Subject:
    """One subject per built-in, shared by its checks (it builds and explains once)."""
    if (kind, name) not in _SUBJECTS:
        _SUBJECTS[(kind, name)] = testing.Subject(kind, name, task)
    return _SUBJECTS[(kind, name)]


@pytest.mark.parametrize(
    "kind, name, task, check",
    [(kind, name, task, check) for kind, name, task in BUILTIN_SUBJECTS for check in testing.CHECKS[kind]],
    ids=lambda v: v[0] if isinstance(v, tuple) else (v.split(",")[0] if "=" in v else v),
)
def test_every_builtin_conforms(tiny_confound, tiny_vocals, kind, name, task, check):
    if kind == "model":
        pytest.importorskip("musicnn")
    result = testing.run_check(_subject(kind, name, task), check)
    assert result.passed, str(result)


def _check(*plugins):
    argv = [sys.executable, "-m", "audiox_bench", "check"]
    for plugin in plugins:
        argv += ["--plugin", str(plugin)]
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def test_audiox_check_passes_the_example_plugin(tiny_confound):
    out = _check(EXAMPLE_PLUGIN)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 6 and all(line.startswith("ok   explainer peak: ") for line in lines)


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
        line.startswith(
            "FAIL explainer short_weights: returns finite weights, one per component, for every class: "
            "weights of shape ("
        )
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
