"""The house's shape: no module of the project imports another in a cycle (at module level
or inside a function), code uses the rooms' names (not the legacy aliases), and GX is
imported only where GX is used."""

from __future__ import annotations

import ast
from pathlib import Path

import monitor
from monitor.settings import PROJECT_ROOT

# folder -> the package name it has when installed
PACKAGES = {"monitor": "monitor", "expectations": "monitor.expectations", "checkpoints": "monitor.checkpoints",
            "custom_expectations": "monitor.custom_expectations"}
GX_USERS = ("monitor.verdict.gx_project", "monitor.custom_expectations", "monitor.checkpoints", "monitor.expectations")


def _modules() -> dict[str, Path]:
    found = {}
    for folder, package in PACKAGES.items():
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            rel = path.relative_to(PROJECT_ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            found[".".join([package, *parts])] = path
    return found


def _canonical(name: str) -> str:
    for folder, package in PACKAGES.items():
        if folder != "monitor" and (name == folder or name.startswith(folder + ".")):
            name = package + name[len(folder):]
    return monitor.LEGACY.get(name, name)


def _imports(name: str, path: Path) -> list[tuple[str, int]]:
    """(imported module, line) for every import in the file, wherever it stands."""
    is_package = path.name == "__init__.py"
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # `from pkg import sub` imports the module pkg.sub; `from mod import value` imports mod
            out += [(f"{base}.{a.name}", node.lineno) for a in node.names]
    return out


def _graph() -> tuple[dict[str, set[str]], list[str]]:
    modules = _modules()
    graph, legacy_uses = {m: set() for m in modules}, []
    for name, path in modules.items():
        for target, line in _imports(name, path):
            if target.split(".")[0] not in ("monitor", *PACKAGES):
                continue
            if target in monitor.LEGACY and name != "monitor.custom_expectations.baseline":
                legacy_uses.append(f"{path.relative_to(PROJECT_ROOT)}:{line} imports {target}")
            resolved = _canonical(target)
            while resolved not in modules and "." in resolved:  # `from pkg import name`: name may be a value
                resolved = resolved.rsplit(".", 1)[0]
            if resolved in modules and resolved != name:
                graph[name].add(resolved)
    return graph, legacy_uses


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle_between_the_projects_modules():
    graph, _ = _graph()
    assert len(graph) > 40 and graph["monitor.verdict.pipeline"]  # the walk sees the project
    assert _cycles(graph) == []


def test_the_cycle_check_sees_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_code_uses_the_rooms_names_not_the_legacy_aliases():
    _, legacy_uses = _graph()
    assert legacy_uses == []


def test_gx_is_imported_only_where_gx_is_used():
    users = {name for name, path in _modules().items()
             if any(t.split(".")[0] == "great_expectations" for t, _ in _imports(name, path))}
    assert users and all(u.startswith(GX_USERS) for u in users), sorted(users)


def test_every_room_says_what_it_holds_and_may_import():
    for room in ("sources", "engines", "store", "rules", "verdict", "delivery", "review", "cli", "demo"):
        doc = ast.get_docstring(ast.parse((PROJECT_ROOT / "monitor" / room / "__init__.py").read_text()))
        assert doc and "May import" in doc, room


def test_the_suites_read_only_catalogued_metrics():
    from monitor import settings
    from monitor.expectations import SUITES
    from monitor.rules.catalogue import CATALOGUE

    read = set()
    for suite in SUITES.values():
        for e in suite(settings.load()):
            read.add(e.metric)
            read.update(n for part in (getattr(e, "segment_metrics", None) or "").split(",")
                        for n in part.split("/") if n)
            if getattr(e, "count_metric", None):
                read.add(e.count_metric.partition(":")[0])
    assert len(read) > 15 and read <= set(CATALOGUE), sorted(read - set(CATALOGUE))


def test_the_packaged_project_template_is_the_repositorys_monitor_toml():
    assert (PROJECT_ROOT / "monitor" / "templates" / "monitor.toml").read_text() == \
        (PROJECT_ROOT / "monitor.toml").read_text()
