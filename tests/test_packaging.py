"""The built wheel holds everything a run needs: install it (without dependencies, into a folder
of its own, nothing from the network) and run the demo and ``--optimize`` with the default menu
from a folder outside the repository, so that no file of the checkout can stand in for package
data."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenarios" / "demo_city_orange.yaml"
_COPY_IGNORE = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", ".hypothesis", ".pytest_cache", ".ipynb_checkpoints", "out")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The wheel, built from a clean copy of the sources (a stale build/ folder cannot leak
    into it) and unpacked with pip into a folder of its own."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    shutil.copytree(ROOT, source, ignore=_COPY_IGNORE)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(work / "dist")],
                           capture_output=True, text=True, cwd=work)
    if built.returncode != 0:
        pytest.skip(f"the wheel cannot be built here (no build backend?): {built.stderr.strip()[-300:]}")
    wheel = next((work / "dist").glob("*.whl"))
    target = work / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)], check=True, capture_output=True, cwd=work)
    return target


def _run(target: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    code = (f"import sys, sim; assert sim.__file__.startswith({str(target)!r}), sim.__file__\n"
            f"from sim.cli import main; sys.exit(main({list(args)!r}))")
    env = {"PYTHONPATH": str(target), "MPLCONFIGDIR": str(cwd / "mpl"), "PATH": "/usr/bin:/bin", "HOME": str(cwd)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, env=env)


def test_the_wheel_lists_every_package_and_its_data(installed):
    packages = {p.parent.relative_to(ROOT).as_posix() for p in (ROOT / "sim").rglob("__init__.py")}
    for package in packages:
        assert (installed / package / "__init__.py").is_file(), package
    for data in ("sim/data/vocabulary.yaml", "sim/data/warning_standards.yaml", "sim/data/atmosphere.yaml", "sim/data/optimizer_menu.yaml",
                 "sim/report/templates/report.html.j2"):
        assert (installed / data).is_file(), data
    assert list((installed / "sim" / "data" / "fonts").glob("*.otf"))


def test_the_installed_wheel_runs_the_demo_and_optimises_with_the_default_menu(installed, tmp_path):
    run = _run(installed, tmp_path, str(DEMO), "--out", str(tmp_path / "run"), "--no-report", "--quiet")
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "run" / "metrics.json").is_file()
    opt = _run(installed, tmp_path, str(DEMO), "--optimize", "--out", str(tmp_path / "opt"), "--no-report", "--quiet")
    assert opt.returncode == 0, opt.stderr
    assert (tmp_path / "opt" / "optimisation.json").is_file()
    assert (tmp_path / "opt" / "optimised_policy.yaml").is_file()


def test_the_scenarios_copy_of_the_default_menu_is_the_packaged_one():
    from sim.optimize.optimizer import DEFAULT_MENU

    assert DEFAULT_MENU == ROOT / "sim" / "data" / "optimizer_menu.yaml"
    assert (ROOT / "scenarios" / "policies" / "optimizer_menu.yaml").read_bytes() == DEFAULT_MENU.read_bytes()
