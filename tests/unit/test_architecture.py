"""The layout holds: no import cycle between top-level packages, the gateway on top.

A top-level package is ``tradeguard.<name>`` (a folder or a module). The graph is of
runtime imports; ``if TYPE_CHECKING`` imports are left out, since they never run.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import grimp
import pytest

import tradeguard

PACKAGE = "tradeguard"
SOURCE = Path(tradeguard.__file__).parent
# Only the wiring and the commands above it may know the gateway.
GATEWAY_IMPORTERS = frozenset(
    {"app", "registry", "routes", "cli", "production", "permission_matrix"}
)
STATE_READERS = frozenset({"web/provide.py"})
APP_STATE = re.compile(r"\bapp\.state\.")

Graph = dict[str, set[str]]


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    """The import graph of the package."""
    return grimp.build_graph(PACKAGE, exclude_type_checking_imports=True)


def top_level(module: str) -> str:
    """``tradeguard.trading.orders.desk`` → ``trading``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def package_graph(graph: grimp.ImportGraph) -> Graph:
    """Which top-level package imports which, with the package itself left out."""
    edges: Graph = defaultdict(set)
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            source, target = top_level(importer), top_level(imported)
            if source and target and source != target:
                edges[source].add(target)
    return edges


def cycles(edges: Graph) -> list[list[str]]:
    """The strongly connected groups of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while (member := stack.pop()) != node:
                group.append(member)
            group.append(node)
            if len(group) > 1:
                found.append(sorted(group))

    for node in list(edges):
        if node not in index:
            visit(node)
    return found


def test_cycles_when_packages_import_in_a_ring_then_found() -> None:
    edges: Graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(edges) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_top_level_packages_when_imported_then_no_cycle(graph: grimp.ImportGraph) -> None:
    edges = package_graph(graph)
    assert len(edges) > 10, "the graph should hold every top-level package"
    found = cycles(edges)
    chains = [
        graph.find_shortest_chain(f"{PACKAGE}.{a}", f"{PACKAGE}.{b}", as_packages=True)
        for group in found
        for a, b in zip(group, group[1:] + group[:1], strict=True)
    ]
    assert found == [], f"import cycles between packages: {found}; chains: {chains}"


def test_gateway_when_imported_then_only_by_the_wiring(graph: grimp.ImportGraph) -> None:
    gateway = f"{PACKAGE}.gateway"
    modules = graph.find_descendants(gateway) | {gateway}
    importers = {
        top_level(importer)
        for module in modules
        for importer in graph.find_modules_that_directly_import(module)
    } - {"gateway"}
    assert importers, "the application must mount the gateway"
    assert importers <= GATEWAY_IMPORTERS, f"below the gateway: {importers - GATEWAY_IMPORTERS}"


def test_application_state_when_read_then_only_through_the_registry() -> None:
    readers = sorted(
        str(path.relative_to(SOURCE))
        for path in SOURCE.rglob("*.py")
        if APP_STATE.search(path.read_text(encoding="utf-8"))
        and str(path.relative_to(SOURCE)) not in STATE_READERS
    )
    assert readers == [], f"services reached through app.state outside the registry: {readers}"
