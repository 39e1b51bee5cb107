"""Run ``run_scenario.py`` many times quickly: each run is its own process, forked from one
interpreter that has already imported the simulator, so a run costs its work, not Python's and
pandas' start-up (about a second each on a small machine).

Each child executes the real ``run_scenario.py`` as ``__main__`` with the given arguments and
working directory, with its own stdout and stderr, and exits with the script's exit status; an
uncaught exception prints its traceback and exits 1, as the interpreter would.

Usage: ``python tests/cli_runner.py < jobs.json > results.json``, where jobs is a list of
``{"cwd": DIR, "args": [...]}`` and each result is ``{"returncode", "stdout", "stderr"}``.
Needs ``os.fork`` (Linux, macOS); :func:`run_all` falls back to one interpreter per run.
"""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "run_scenario.py"


def _child(job: dict, out_path: str, err_path: str) -> None:
    code = 1
    try:
        os.chdir(job["cwd"])
        for fd, path in ((1, out_path), (2, err_path)):
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(handle, fd)
            os.close(handle)
        sys.argv = [str(SCRIPT), *job["args"]]
        try:
            runpy.run_path(str(SCRIPT), run_name="__main__")
            code = 0
        except SystemExit as exc:
            if exc.code is None or isinstance(exc.code, int):
                code = exc.code or 0
            else:
                print(exc.code, file=sys.stderr)
        except BaseException:
            traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(code)


def run_forked(jobs: list[dict], workers: int) -> list[dict]:
    """Run the jobs in forked children, ``workers`` at a time."""
    import sim.api  # noqa: F401  (imported once, before forking)
    import sim.cli  # noqa: F401
    import sim.outputs  # noqa: F401

    results: list[dict | None] = [None] * len(jobs)
    running: dict[int, tuple[int, str, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        pending = list(enumerate(jobs))
        while pending or running:
            while pending and len(running) < workers:
                i, job = pending.pop(0)
                out_path, err_path = f"{tmp}/{i}.out", f"{tmp}/{i}.err"
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    _child(job, out_path, err_path)
                running[pid] = (i, out_path, err_path)
            pid, status = os.wait()
            i, out_path, err_path = running.pop(pid)
            results[i] = {
                "returncode": os.waitstatus_to_exitcode(status),
                "stdout": Path(out_path).read_text(encoding="utf-8", errors="replace"),
                "stderr": Path(err_path).read_text(encoding="utf-8", errors="replace"),
            }
    return results  # type: ignore[return-value]


def run_all(jobs: list[dict], workers: int | None = None) -> list[dict]:
    """Run every job through ``run_scenario.py`` and return exit status, stdout and stderr."""
    workers = workers or os.cpu_count() or 2
    if hasattr(os, "fork"):
        proc = subprocess.run([sys.executable, __file__, str(workers)], input=json.dumps(jobs), capture_output=True, text=True, timeout=600, cwd=ROOT)
        if proc.returncode != 0:
            raise RuntimeError(f"cli_runner failed:\n{proc.stderr}")
        return json.loads(proc.stdout)
    out = []
    for job in jobs:
        proc = subprocess.run([sys.executable, str(SCRIPT), *job["args"]], cwd=job["cwd"], capture_output=True, text=True, timeout=300)
        out.append({"returncode": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr})
    return out


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    jobs = json.load(sys.stdin)
    results = run_forked(jobs, int(sys.argv[1]) if len(sys.argv) > 1 else (os.cpu_count() or 2))
    sys.stdout.write(json.dumps(results))
