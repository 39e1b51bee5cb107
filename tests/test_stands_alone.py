"""The repository stands alone: no tracked text file outside tests/ points at design notes
that are not part of it (``ARCHITECTURE.md``, ``DOMAIN.md``). Data files, docstrings and
notebooks cite primary sources instead (standards, papers, official documents; the short
codes of the local documents are listed in docs/sources.md), or say "estimate".
"""

from __future__ import annotations

import subprocess

import pytest

from conftest import ROOT

SUFFIXES = (".py", ".yaml", ".yml", ".csv", ".md", ".ipynb", ".j2", ".toml", ".json")
MISSING_NOTES = ("ARCHITECTURE.md", "DOMAIN.md")


def _tracked_text_files() -> list[str]:
    """Paths relative to the repository root of the tracked files with a text suffix."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout.decode("utf-8")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the tracked files are unknown")
    paths = [p for p in out.split("\0") if p]
    return [p for p in paths if p.endswith(SUFFIXES) and not p.startswith("tests/")]


def test_there_are_files_to_check():
    files = _tracked_text_files()
    assert "README.md" in files and "sim/data/atmosphere.yaml" in files


def test_no_pointer_to_design_notes_outside_the_repository():
    offending = []
    for rel in _tracked_text_files():
        path = ROOT / rel
        if not path.is_file():   # deleted in the work tree, not yet committed
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if any(note in line for note in MISSING_NOTES):
                offending.append(f"{rel}:{number}: {line.strip()[:120]}")
    assert not offending, (
        "cite the primary source (docs/sources.md) instead of design notes that are not in "
        "the repository:\n" + "\n".join(offending)
    )


def test_the_list_of_sources_is_there():
    text = (ROOT / "docs" / "sources.md").read_text(encoding="utf-8")
    for code in ("| 000 |", "| 001 |", "| 002 |", "| 003 |", "| 004 |"):
        assert code in text
