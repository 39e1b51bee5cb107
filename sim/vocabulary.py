"""The words the simulator understands: column aliases, grades, flags, levels, pollutants.

Loaded once from ``sim/data/vocabulary.yaml`` so that a city's own spellings are a data edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from sim.yamlio import parse_yaml


@dataclass(frozen=True)
class Vocabulary:
    column_aliases: dict[str, str]  # alias (and canonical name) -> canonical column
    required_columns: tuple[str, ...]
    grade_aliases: dict[str, str]  # normalised spelling -> canonical grade
    grades: tuple[str, ...]
    flags: tuple[str, ...]
    flag_true: frozenset[str]
    flag_false: frozenset[str]
    level_aliases: dict[str, str]
    levels: tuple[str, ...]  # lowest first
    pollutants: tuple[str, ...]
    ratio_pollutants: dict[str, str]  # ratio key -> inventory pollutant

    def canonical_grade(self, text: object) -> str | None:
        """The canonical grade for a spelling such as ``A级`` or ``引领性``; None if unknown."""
        return self.grade_aliases.get(_normalise(text))

    def canonical_level(self, text: object) -> str | None:
        """The canonical warning level for ``orange``, ``橙色``, ``II`` ...; None if unknown."""
        return self.level_aliases.get(_normalise(text))


def _normalise(text: object) -> str:
    return str(text).strip().replace(" ", "").replace("　", "").lower()


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The package vocabulary (read once)."""
    raw = parse_yaml(resources.files("sim.data").joinpath("vocabulary.yaml").read_text("utf-8"), "sim/data/vocabulary.yaml")
    columns: dict[str, str] = {}
    for canonical, aliases in raw["columns"].items():
        for name in [canonical, *aliases]:
            columns[name.strip().lower()] = canonical
    grade_aliases: dict[str, str] = {}
    for canonical, aliases in raw["grades"].items():
        for name in [canonical, *aliases]:
            grade_aliases[_normalise(name)] = canonical
    level_aliases: dict[str, str] = {}
    for canonical, aliases in raw["levels"].items():
        for name in [canonical, *aliases]:
            level_aliases[_normalise(name)] = canonical
    return Vocabulary(
        column_aliases=columns,
        required_columns=tuple(raw["required_columns"]),
        grade_aliases=grade_aliases,
        grades=tuple(raw["grades"]),
        flags=tuple(raw["flags"]),
        flag_true=frozenset(_normalise(v) for v in raw["flag_true"]),
        flag_false=frozenset(_normalise(v) for v in raw["flag_false"]),
        level_aliases=level_aliases,
        levels=tuple(raw["levels"]),
        pollutants=tuple(raw["pollutants"]),
        ratio_pollutants=dict(raw["ratio_pollutants"]),
    )
