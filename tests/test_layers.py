"""The package's layers: every module of ``sim/`` belongs to one layer of :data:`LAYERS`, and
imports (at module level or inside functions) go only to its own layer or lower ones, with no
cycle between modules. Imports are read from the source with :mod:`ast`; nothing is imported.
See docs/architecture.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sim"

#: Layers from the top down: a module may import from its own layer and the layers below it.
#: A module belongs to the entry naming it or the package holding it (longest name wins).
LAYERS: list[tuple[str, list[str]]] = [
    ("entry", ["sim", "sim.cli"]),  # the package's public names and the command line
    ("optimize", ["sim.optimize"]),  # least-cost reduction lists; runs scenarios through the API
    ("api", ["sim.api", "sim.variants", "sim.outputs", "sim.evaluation"]),  # prepare/run, scenario variants, output folders, after-action evaluation
    ("results", ["sim.results"]),  # Result: a finished run and its tables
    ("report", ["sim.report"]),  # charts, report.html, measures.xlsx, comparisons of finished results
    ("engine", ["sim.engine"]),  # SimPy engine, forecasts for its warning centre, ensembles on executors
    ("rules", ["sim.rules"]),  # policy masks and calendars, warning rule sets
    ("physics", ["sim.physics"]),  # box model, AQI, reduction ratios, PM2.5 projection
    ("synthetic", ["sim.synthetic"]),  # generated lists, provinces and episodes for tests and benchmarks
    ("inputs", ["sim.inputs"]),  # enterprise list and emission factors, meteorology, text tables
    ("config", ["sim.config"]),  # scenario schema, the one YAML reader, vocabulary, dates, bilingual labels
    ("base", ["sim._version", "sim.errors", "sim.cell_text"]),  # imported by everything
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer_of(module: str) -> int | None:
    best: tuple[int, int] | None = None  # (length of the matching name, layer index)
    for index, (_, names) in enumerate(LAYERS):
        for name in names:
            if (module == name or (module.startswith(name + ".") and name != "sim")) and (best is None or len(name) > best[0]):
                best = (len(name), index)
    return None if best is None else best[1]


def imports(module: str, modules: dict[str, Path] = MODULES) -> set[str]:
    """Modules of ``sim`` that ``module`` imports anywhere in its source."""
    path = modules[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            # "from sim import api" imports the module sim.api; "from sim.api import run" sim.api
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # import sim.report.charts.x -> sim.report.charts
                target = target.rpartition(".")[0]
            if target and target != module:
                found.add(target)
    return found


def graph(modules: dict[str, Path] = MODULES) -> dict[str, set[str]]:
    return {m: imports(m, modules) for m in modules}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def upward(edges: dict[str, set[str]]) -> list[str]:
    out = []
    for module, targets in sorted(edges.items()):
        for target in sorted(targets):
            if layer_of(target) < layer_of(module):
                out.append(f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})")
    return out


def test_every_module_has_a_layer():
    assert MODULES, PACKAGE
    missing = [m for m in MODULES if layer_of(m) is None]
    assert not missing, f"put these modules in a layer of tests/test_layers.py LAYERS: {missing}"


def test_no_import_cycles():
    found = cycles(graph())
    assert not found, "modules importing each other: " + "; ".join(" <-> ".join(group) for group in found)


def test_no_import_up_the_layers():
    found = upward(graph())
    assert not found, "imports up the layers (move the code down, or the module up in LAYERS):\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("sources", "problem"),
    [
        ({"sim/__init__.py": "", "sim/errors.py": "from sim.cli import main\n", "sim/cli.py": "def main():\n    from sim import errors\n"}, "both"),
        ({"sim/__init__.py": "", "sim/errors.py": "def f():\n    from .cli import main\n", "sim/cli.py": ""}, "upward"),
    ],
)
def test_the_checks_find_a_cycle_and_an_upward_import(tmp_path, sources, problem):
    """A function-level or relative import up the layers is found, and so is a cycle."""
    for name, text in sources.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    modules = {".".join(p.relative_to(tmp_path).with_suffix("").parts).removesuffix(".__init__"): p for p in sorted((tmp_path / "sim").rglob("*.py"))}
    edges = graph(modules)
    assert upward(edges) == ["sim.errors (base) imports sim.cli (entry)"]
    assert bool(cycles(edges)) == (problem == "both")


def test_pyproject_lists_every_package():
    """Every folder of ``sim/`` with an ``__init__.py`` (and no other) is a package of the wheel;
    the data folders are listed too, as setuptools wants for package data."""
    import tomllib

    listed = set(tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    code = {m for m, p in MODULES.items() if p.name == "__init__.py"}
    data = {"sim.data", "sim.data.fonts", "sim.report.templates"}
    assert listed == code | data


def test_every_layer_folder_is_one_layer():
    """A package below ``sim`` is one layer: all its modules map to the same layer."""
    for package, path in MODULES.items():
        if path.name == "__init__.py" and package != "sim":
            layers = {layer_of(m) for m in MODULES if m == package or m.startswith(package + ".")}
            assert len(layers) == 1, package


def test_import_sim_and_help_load_neither_pandas_nor_the_engine():
    """``import sim`` and ``run_scenario.py --help`` stay light (the public names are imported
    on first use); timings are printed by benchmarks/import_time.py, not asserted here."""
    import subprocess
    import sys

    code = "import sys, sim; print(sorted(m for m in ('pandas', 'numpy', 'pydantic', 'sim.api', 'sim.engine') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]", out.stdout
    helped = subprocess.run([sys.executable, "-X", "importtime", str(ROOT / "run_scenario.py"), "--help"], capture_output=True, text=True, cwd=ROOT, check=True)
    assert "usage: run_scenario.py" in helped.stdout
    loaded = {line.split("|")[-1].strip() for line in helped.stderr.splitlines() if line.startswith("import time:")}
    assert not loaded & {"pandas", "numpy", "pydantic", "sim.api"}, sorted(loaded & {"pandas", "numpy", "pydantic", "sim.api"})
    import sim

    assert sim.run.__module__ == "sim.api" and "load_scenario" in dir(sim)  # the names are still there
