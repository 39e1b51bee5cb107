"""The words the simulator understands: column aliases, grades, flags, levels, pollutants.

Loaded once from ``sim/data/vocabulary.yaml`` so that a city's own spellings are a data edit.
That file is also the one definition of the warning levels and the pollutants: every module
takes :data:`LEVELS`, :data:`POLLUTANTS`, :data:`RATIO_POLLUTANTS` and :data:`RATIO_COLUMN`
from here. Pydantic models whose field names must be written out (``LevelFractions``,
``PollutantValues`` ...) are checked against them in ``tests/test_vocabulary_truth.py``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from sim.config.yamlio import parse_yaml


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
    rate_headers: dict[str, tuple[str, str, str, float]]  # header key -> (rate column, unit, per hour/day/year, kg per unit)

    def canonical_grade(self, text: object) -> str | None:
        """The canonical grade for a spelling such as ``A级`` or ``引领性``; None if unknown."""
        return self.grade_aliases.get(_normalise(text))

    def canonical_level(self, text: object) -> str | None:
        """The canonical warning level for ``orange``, ``橙色``, ``II`` ...; None if unknown."""
        return self.level_aliases.get(_normalise(text))


    def column(self, header: object) -> tuple[str, tuple[str, str, float] | None] | None:
        """The canonical column a header names, with the rate unit when the header gives one
        other than kg/h (``二氧化硫（吨/年）`` -> so2_kg_h, ('吨/年', 'year', 1000)); None if unknown."""
        key = header_key(header)
        if key in self.column_aliases:
            return self.column_aliases[key], None
        rate = self.rate_headers.get(key)
        if rate is None:
            return None
        column, unit, per, kg = rate
        return column, (None if per == "hour" and kg == 1 else (unit, per, kg))


def header_key(text: object) -> str:
    """A header as compared: NFKC (full-width brackets, letters and digits as a Chinese keyboard
    types them become ASCII), no whitespace, lower case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).lower()


def _normalise(text: object) -> str:
    return header_key(text)


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The package vocabulary (read once)."""
    raw = parse_yaml(resources.files("sim.data").joinpath("vocabulary.yaml").read_text("utf-8"), "sim/data/vocabulary.yaml")
    columns: dict[str, str] = {}
    for canonical, aliases in raw["columns"].items():
        for name in [canonical, *aliases]:
            columns[header_key(name)] = canonical
    grade_aliases: dict[str, str] = {}
    for canonical, aliases in raw["grades"].items():
        for name in [canonical, *aliases]:
            grade_aliases[_normalise(name)] = canonical
    rate_headers: dict[str, tuple[str, str, str, float]] = {}
    for pollutant, names in raw["pollutant_names"].items():
        for name in [header_key(f"{n}{w}") for n in [pollutant, *names] for w in ["", *raw.get("rate_words", [])]]:
            for unit, (per, kg) in raw["rate_units"].items():
                u = header_key(unit)
                # parts already normalised (ASCII brackets and separators): no NFKC per form
                for form in (f"{name}({u})", f"{name}[{u}]", f"{name}_{u.replace('/', '_')}", f"{name}{u}", f"{name}_{u}"):
                    rate_headers.setdefault(form, (f"{pollutant}_kg_h", unit, per, float(kg)))
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
        rate_headers=rate_headers,
    )


_VOCABULARY = vocabulary()  # parsed once; the package reads the enterprise list with it anyway

#: Warning levels, lowest first (yellow, orange, red): the keys of ``levels`` in vocabulary.yaml.
#: Arrays with a level axis are in this order; level number k (1 = yellow) is ``LEVELS[k - 1]``.
LEVELS: tuple[str, ...] = _VOCABULARY.levels
#: Pollutants of the inventory, in column order of every emission array (so2 ... nh3).
POLLUTANTS: tuple[str, ...] = _VOCABULARY.pollutants
#: Keys of the reduction-ratio checks (list_ratio / society_ratio): so2, nox, pm, voc.
RATIO_POLLUTANTS: tuple[str, ...] = tuple(_VOCABULARY.ratio_pollutants)
#: Ratio key -> the inventory pollutant it is computed on (pm stands for 颗粒物, computed on PM10).
RATIO_COLUMN: dict[str, str] = dict(_VOCABULARY.ratio_pollutants)
