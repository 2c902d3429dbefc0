"""The package reads as its pipeline: no import cycles, small modules, each with a docstring, no issue numbers."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "embedder"
#: A module longer than this is split where it has a natural seam.
MAX_LINES = 430


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Every module of the package ``name`` imports, at the top or inside functions (not under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and _type_checking(node)
               for child in node.body for n in ast.walk(child)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                target = f"{module}.{alias.name}"
                found.add(target if target in known else module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    targets = set()
    for target in found:
        parts = target.split(".")
        # Importing a.b.c runs a/__init__ and a/b/__init__ too.
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            # A module's own ancestor packages are already being imported when it runs (re-exporting
            # ``__init__`` files are how packages work), so only edges to other packages count.
            if prefix in known and prefix != name and not name.startswith(prefix + "."):
                targets.add(prefix)
    return targets


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles_counting_imports_inside_functions():
    known = modules()
    graph = {name: imports(name, path, known) for name, path in known.items()}
    found = cycles(graph)
    described = ["; ".join(f"{a} -> {', '.join(sorted(graph[a] & set(c)))}" for a in c) for c in found]
    assert found == [], "\n".join(described)


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_every_module_is_small_and_says_what_it_does():
    long = {}
    for name, path in modules().items():
        text = path.read_text(encoding="utf-8")
        assert ast.get_docstring(ast.parse(text)), f"{name} has no docstring"
        lines = text.count("\n")
        if lines > MAX_LINES:
            long[name] = lines
    assert long == {}


def test_the_package_root_imports_nothing():
    # Every module imports ``embedder`` for ``__version__``: the root must not import them back.
    known = modules()
    assert imports("embedder", known["embedder"], known) == set()


def test_the_layout_shows_the_pipeline():
    for stage in ("ratings", "model", "maps", "site", "quality", "synthetic", "cli", "tf_models", "spark", "publish"):
        assert (PACKAGE / stage / "__init__.py").is_file(), stage
    flat = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert len(flat) <= 12, flat


ISSUE = re.compile(r"\bissues?\s*#?\d", re.IGNORECASE)


def test_no_issue_numbers_in_code_templates_or_tests():
    places = [*PACKAGE.rglob("*.py"), *(ROOT / "site_template").rglob("*.*"), *(ROOT / "tests").rglob("*.py"),
              *(ROOT / "benchmarks").rglob("*.py"), ROOT / "build.py", *ROOT.glob("requirements*.txt")]
    hits = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}" for path in places if path.is_file()
            for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
            if ISSUE.search(line) and path.name != "test_architecture.py"]
    assert hits == []
