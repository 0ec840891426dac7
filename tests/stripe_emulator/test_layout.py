"""The emulator is a service of its own: nothing in it imports the product."""

from __future__ import annotations

import ast
import pkgutil
from pathlib import Path

import stripe_emulator

PRODUCT = ("payments", "schema", "config", "events", "tests")


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_the_emulator_never_imports_the_product():
    package = Path(stripe_emulator.__file__).parent
    modules = [package / f"{m.name}.py" for m in pkgutil.iter_modules([str(package)])]
    assert len(modules) > 10
    for module in modules:
        product = {name for name in _imports(module) if name.split(".")[0] in PRODUCT}
        assert not product, f"{module.name} imports {product}"
