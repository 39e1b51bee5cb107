"""Input errors: the one exception type that the command line turns into exit status 2.

Every problem with a user's file is raised as :class:`InputError`, naming the file, the place
in it (row, column or key) and how to fix it, so that a planner never sees a traceback.
"""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """A problem with a file the user wrote.

    Parameters
    ----------
    file:
        The file at fault (path or name).
    where:
        The place in it: ``"row 12, column grade"`` or ``"key warnings.schedule[0].level"``.
    problem:
        What is wrong, in one sentence.
    fix:
        What to do about it, in one sentence.
    """

    def __init__(self, file: str | Path | None, where: str | None, problem: str, fix: str | None = None):
        self.file = str(file) if file is not None else None
        self.where = where
        self.problem = problem
        self.fix = fix
        super().__init__(self.message)

    @property
    def message(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.where:
            parts.append(self.where)
        head = ": ".join(parts)
        text = f"{head}: {self.problem}" if head else self.problem
        if self.fix:
            text += f" Fix: {self.fix}"
        return text
