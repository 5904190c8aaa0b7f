"""The layers of DESIGN.md, held by reading the code: the API imports the domain, never the other way round,
and no two modules of `incidents` import each other (not even inside a function)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "incidents"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, name: str) -> set[str]:
    """Every `incidents…` module a file imports, at the top or inside a function."""
    found = set()
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}  # `from incidents import services`
    return {imported for imported in found if imported.split(".")[0] == "incidents"}


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    files = {module_name(path): path for path in PACKAGE.rglob("*.py") if "migrations" not in path.parts}
    return {name: {m for m in imports_of(path, name) if m in files and m != name} for name, path in files.items()}


def test_nothing_below_the_api_imports_from_it(graph):
    below = {name: imported for name, imported in graph.items() if not name.startswith("incidents.api")}
    offenders = {name: sorted(m for m in imported if m.startswith("incidents.api")) for name, imported in below.items()}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_no_import_cycle_among_the_modules(graph):
    cycles = []

    def visit(name: str, path: list[str]) -> None:
        for imported in sorted(graph.get(name, ())):
            if imported in path:
                cycles.append(path[path.index(imported) :] + [imported])
            elif imported not in done:
                visit(imported, [*path, imported])
        done.add(name)

    done: set[str] = set()
    for name in sorted(graph):
        if name not in done:
            visit(name, [name])
    # A package's __init__ is imported by its submodules by definition; only real cycles count.
    real = [cycle for cycle in cycles if len(set(cycle)) > 1 and not _through_package_init(cycle)]
    assert real == []


def _through_package_init(cycle: list[str]) -> bool:
    return any(a.startswith(b + ".") or b.startswith(a + ".") for a, b in zip(cycle, cycle[1:], strict=False))
