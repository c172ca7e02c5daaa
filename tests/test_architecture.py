"""The toolkit's shape: imports inside dwca_port go one way (no cycle), no module imports another's
private names, and the project graph is declared in dependency order."""

from __future__ import annotations

import ast
from pathlib import Path

import dwca_port
from dwca_port import graph

PACKAGE = Path(dwca_port.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _imports(path: Path, name: str, known: set[str]) -> list[tuple[str, list[str]]]:
    """(imported module, names imported from it) for every import statement, wherever it is."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [alias.name for alias in node.names]
            submodules = [f"{base}.{n}" for n in names if f"{base}.{n}" in known]
            plain = [n for n in names if f"{base}.{n}" not in known]
            if plain:
                found.append((base, plain))
            found += [(module, []) for module in submodules]
    return [(module, names) for module, names in found if module.startswith("dwca_port")]


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {
        name: {module for module, _ in _imports(path, name, known) if module in known and module != name}
        for name, path in modules.items()
    }


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_inside_the_toolkit():
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_imports_a_private_name_of_another():
    modules = _modules()
    known = set(modules)
    offences = [
        f"{name} imports {module}.{imported}"
        for name, path in modules.items()
        for module, names in _imports(path, name, known)
        for imported in names
        if imported.startswith("_") and module != name
    ]
    assert offences == []


def test_the_project_graph_is_declared_in_dependency_order():
    assert graph.order_problems() == []


def test_the_order_check_reports_a_node_declared_too_early(monkeypatch):
    reversed_nodes = tuple(reversed(graph.NODES))
    monkeypatch.setattr(graph, "NODES", reversed_nodes)
    assert any("declared later" in problem for problem in graph.order_problems())
