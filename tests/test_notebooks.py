"""The notebooks in notebooks/: stored without outputs, and each runs from top to bottom.

Every notebook ends its story with cells that assert the statements of its written reading
against the numbers of the run, so a change in the model that makes a reading untrue fails
here. The kernel is this interpreter (a kernel spec written for the test), importing the
repository's own ``sim``.
"""

from __future__ import annotations

import os
import sys
import time

import nbformat
import pytest

from conftest import ROOT

NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
TIMEOUT_S = 120  # per cell; the four notebooks together take well under a minute


def test_the_six_notebooks_are_there():
    assert [p.name for p in NOTEBOOKS] == [
        "01_quickstart.ipynb", "02_exemption_policies.ipynb", "03_staggered_production.ipynb", "04_uncertainty.ipynb", "05_negotiated_cuts.ipynb", "06_real_episodes.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name} cell {i} carries outputs: clear them before committing"
    kinds = [c.cell_type for c in nb.cells]
    assert kinds[0] == "markdown" and kinds.count("markdown") >= 4


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """A ``python3`` kernel spec that starts this interpreter, found before any other, and the
    repository on the kernel's path. jupyter_core's notice about its future default folders
    is answered by choosing them now (JUPYTER_PLATFORM_DIRS)."""
    from ipykernel.kernelspec import write_kernel_spec

    folder = tmp_path_factory.mktemp("jupyter")
    write_kernel_spec(folder / "kernels" / "python3")
    saved = {k: os.environ.get(k) for k in ("JUPYTER_PATH", "JUPYTER_PLATFORM_DIRS", "PYTHONPATH", "MPLBACKEND")}
    os.environ["JUPYTER_PATH"] = str(folder)
    os.environ["JUPYTER_PLATFORM_DIRS"] = "1"
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [saved["PYTHONPATH"]])])
    os.environ.pop("MPLBACKEND", None)  # the notebooks choose the inline backend themselves
    yield sys.executable
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, kernel):
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    started = time.perf_counter()
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on any failure
    elapsed = time.perf_counter() - started
    images = 0
    for i, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            assert output.output_type != "error"
            if output.output_type == "stream" and output.name == "stderr":
                pytest.fail(f"{path.name} cell {i} wrote to stderr (a warning?):\n{output.text}")
            images += "image/png" in output.get("data", {})
    assert images >= 2, f"{path.name} shows {images} chart(s)"
    assert elapsed < 60, f"{path.name} took {elapsed:.0f} s"
