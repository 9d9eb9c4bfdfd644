"""The layers on disk: every module imports only from its own layer or the layers below it."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Lowest first. Built-in tasks, explainers and metrics sit above the engine's layers they use; the faces
# (command line, Python API, file explanation, conformance checks) use everything.
LAYERS = ["core", "models", "factorizations", "perturbation", "results", "engine", "builtins", "faces"]
BUILTINS = {"tasks", "explainers", "metrics"}


def layer_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] != "audiox_bench" or len(parts) == 1:
        return "faces"
    if parts[1] in BUILTINS:
        return "builtins"
    return parts[1] if parts[1] in LAYERS else "faces"


def modules():
    for path in sorted((ROOT / "audiox_bench").rglob("*.py")):
        yield "audiox_bench." + ".".join(path.relative_to(ROOT / "audiox_bench").with_suffix("").parts), path
    for package in sorted(BUILTINS):
        for path in sorted((ROOT / package).rglob("*.py")):
            yield f"audiox_bench.{package}." + ".".join(path.relative_to(ROOT / package).with_suffix("").parts), path


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("audiox_bench"):
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names if alias.name.startswith("audiox_bench"))
    return names


@pytest.mark.parametrize("module, path", list(modules()), ids=lambda v: v if isinstance(v, str) else "")
def test_imports_go_down_the_layers(module, path):
    own = LAYERS.index(layer_of(module))
    upward = [name for name in imported(path) if LAYERS.index(layer_of(name)) > own]
    assert not upward, f"{module} ({LAYERS[own]}) imports from higher layers: {sorted(upward)}"


def test_core_does_not_import_torch_at_module_level():
    for path in sorted((ROOT / "audiox_bench" / "core").glob("*.py")):
        top_level = [n for n in ast.parse(path.read_text()).body if isinstance(n, ast.Import | ast.ImportFrom)]
        names = {a.name for n in top_level if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module for n in top_level if isinstance(n, ast.ImportFrom) and n.module}
        assert "torch" not in names, path.name
