"""The codebase stays readable: layers' private attributes stay inside cnnlab/layers, and no
module grows past ~400 lines (split by idea instead)."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cnnlab"
LAYERS = PACKAGE / "layers"


def _modules(folder):
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def _private_names_of_layers() -> set[str]:
    """Every ``self._name`` a layer class assigns (the layers' private state)."""
    names = set()
    for path in _modules(LAYERS):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) \
                    and isinstance(node.value, ast.Name) and node.value.id == "self" \
                    and node.attr.startswith("_") and not node.attr.startswith("__"):
                names.add(node.attr)
    return names


def _reads_of(names, path):
    """(line, text) of every ``x._name`` in path with x not self/cls and _name in names."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr in names:
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue
            found.append((node.lineno, ast.unparse(node)))
    return found


def test_the_layers_have_private_state_to_protect():
    names = _private_names_of_layers()
    assert {"_pads", "_stride", "_cache", "_network"} <= names


def test_no_module_outside_the_layers_reads_a_layer_private_attribute():
    names = _private_names_of_layers()
    offenders = {str(p.relative_to(PACKAGE)): hits
                 for p in _modules(PACKAGE) if LAYERS not in p.parents
                 for hits in [_reads_of(names, p)] if hits}
    assert offenders == {}, "use the layer's public properties or methods instead"


def test_the_check_finds_a_private_read(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f(layer):\n    return layer._pads\n")
    assert _reads_of({"_pads"}, bad) == [(2, "layer._pads")]


@pytest.mark.parametrize("path", _modules(PACKAGE), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_past_400_lines(path):
    lines = len(path.read_text().splitlines())
    assert lines <= 400, f"{path.name} has {lines} lines: split it by idea"
