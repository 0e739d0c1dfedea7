"""The layout docs/ARCHITECTURE.md draws holds: a package per stage, no import cycle (imports inside functions
counted), no private name taken from another module, no stage that imports an engine, no code in a package's
__init__.py, and every top-level module or package named in the drawing."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "embproj"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports(path: Path, known: dict[str, Path]) -> list[tuple[str, str | None]]:
    """(module imported, name taken from it or None) for every import of embproj in the file, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("embproj"):
            assert node.level == 0, f"{path}: a relative import"
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.append((sub, None) if sub in known else (node.module, alias.name))
        elif isinstance(node, ast.Import):
            found += [(a.name, None) for a in node.names if a.name.startswith("embproj")]
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: {m for m, _ in imports(path, known) if m in known and m != name} for name, path in known.items()}


def test_no_import_cycle_even_through_imports_inside_functions():
    edges = graph()
    for package in {m for m in edges if (PACKAGE / Path(*m.split(".")[1:]) / "__init__.py").is_file()}:
        edges[package] = set()  # an __init__ is empty (tested below): importing a package runs nothing
    state: dict[str, int] = {}  # 1: on the path, 2: done
    cycles: list[str] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(path[path.index(nxt) :] + [nxt]))
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    assert len(state) == len(edges) > 50, "every module of the package visited"
    assert cycles == [], "import cycles: " + "; ".join(cycles)


def test_no_module_takes_another_modules_private_names():
    known = modules()
    taken = [
        f"{name} takes {private} from {module}"
        for name, path in known.items()
        for module, private in imports(path, known)
        if private and private.startswith("_") and not private.startswith("__") and module != name
    ]
    assert taken == []


STAGES = ("read", "plan", "sample", "vectors", "neighbours", "project", "structure", "render", "write")


def test_no_stage_knows_an_engine():
    """The stages take arrays and frozen dataclasses (engine/base.py): none imports an engine, so none can branch
    on one."""
    known = modules()
    knowing = [
        f"{name} imports {module}"
        for name, path in known.items()
        if name.partition(".")[2].split(".")[0] in STAGES
        for module, _ in imports(path, known)
        if module.startswith("embproj.engine")
    ]
    assert knowing == []


def test_package_inits_hold_no_code():
    for init in PACKAGE.rglob("__init__.py"):
        if init.parent == PACKAGE:
            continue  # embproj's own: the public API
        body = ast.parse(init.read_text(encoding="utf-8")).body
        assert all(isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) for n in body), init


def test_the_drawing_names_every_top_level_module_and_package():
    drawing = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    top = sorted(
        f"{p.name}/" if p.is_dir() else p.name
        for p in PACKAGE.iterdir()
        if (p.is_dir() and (p / "__init__.py").is_file()) or (p.suffix == ".py" and not p.name.startswith("__"))
    )
    missing = [name for name in top if f"`{name}`" not in drawing and f"`{name.removesuffix('.py')}`" not in drawing]
    assert missing == [], f"docs/ARCHITECTURE.md does not name {missing}"
