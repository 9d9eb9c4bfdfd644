import textwrap

import pytest

from audiox_bench.core.errors import AudioxError, SpecError, UnknownNameError
from audiox_bench.core.plugins import load_plugin
from audiox_bench.core.registry import Registry, explainers


class Widget:
    """The contract of the test registry."""


def test_decorator_registration_and_build():
    reg = Registry("widgets", (Widget,))

    @reg.register("box")
    class Box(Widget):
        """A box.

        Parameters
        ----------
        size : int
            Edge length in cm. More text.
        """

        def __init__(self, size: int = 1):
            self.size = size

    assert reg.names() == ["box"] and Box.name == "box"
    assert reg.build("box:size=3").size == 3
    assert reg.describe("box") == "A box."
    [size] = reg.parameters("box")
    assert (size.name, size.annotation, size.default, size.meaning) == ("size", "int", 1, "Edge length in cm.")
    with pytest.raises(SpecError, match="size must be int, got 'abc'"):
        reg.build("box:size=abc")
    with pytest.raises(AudioxError, match="must subclass"):
        reg.register("not_a_widget")(dict)


def test_unknown_name_suggests_close_match():
    with pytest.raises(UnknownNameError, match="did you mean 'audiolime'"):
        explainers.get("audiolim")


def test_unknown_key_suggests_close_match():
    with pytest.raises(SpecError, match="did you mean 'separator'"):
        explainers.build("audiolime:seperator=hpss")


def test_bad_value_is_a_spec_error():
    with pytest.raises(SpecError, match="n_segments"):
        explainers.build("audiolime:n_segments=0")


def test_unknown_separator_named_in_error():
    with pytest.raises(UnknownNameError, match="separator 'hpps'"):
        explainers.build("audiolime:separator=hpps")


def test_plugin_file_registers_an_explainer(tmp_path):
    plugin = tmp_path / "my_plugin.py"
    plugin.write_text(
        textwrap.dedent('''
        import numpy as np
        from audiox_bench import Explanation, register_explainer
        from audiox_bench.explainers.audiolime import AudioLIME

        @register_explainer("plugin_uniform")
        class Uniform(AudioLIME):
            """Equal weight on every source."""
            def explain(self, model, example, factorization, target, seed):
                n = factorization.n_components
                return Explanation(tuple(factorization.names), np.ones(n), target)
    ''')
    )
    load_plugin(str(plugin))
    assert "plugin_uniform" in explainers.names()
    assert explainers.describe("plugin_uniform") == "Equal weight on every source."
    load_plugin(str(plugin))  # loading twice is harmless


def test_missing_plugin_is_a_clear_error(tmp_path):
    with pytest.raises(AudioxError, match="does not exist"):
        load_plugin(str(tmp_path / "nope.py"))
    with pytest.raises(AudioxError, match="could not be imported"):
        load_plugin("no_such_module_xyz")


def test_plugin_that_raises_is_reported(tmp_path):
    plugin = tmp_path / "broken.py"
    plugin.write_text("raise RuntimeError('boom')\n")
    with pytest.raises(AudioxError, match="boom"):
        load_plugin(str(plugin))


def test_entry_point_plugins_are_listed_and_loaded_on_use(tmp_path, monkeypatch):
    """An installed package advertises an explainer through the audiox_bench.explainers group."""
    package = tmp_path / "ep_explainer_pkg.py"
    package.write_text(
        textwrap.dedent('''
        from audiox_bench.explainers.audiolime import AudioLIME

        class EntryPointLIME(AudioLIME):
            """Registered through an entry point."""
    ''')
    )
    dist = tmp_path / "ep_explainer_pkg-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ep-explainer-pkg\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[audiox_bench.explainers]\nep_lime = ep_explainer_pkg:EntryPointLIME\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "ep_lime" in explainers.names()
    assert explainers.describe("ep_lime") == "(plugin, loaded on use)"
    built = explainers.build("ep_lime:separator=hpss")
    assert type(built).__name__ == "EntryPointLIME" and built.separator_name == "hpss"
