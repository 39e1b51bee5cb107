"""Response-surface coefficient files (``atmosphere.model: response_surface``): format and reader.

A pf-RSM-style surface (polynomial-function response surface model; Xing et al. 2011, Atmos.
Chem. Phys. 11:5027; polynomial form Xing et al. 2018, Atmos. Chem. Phys. 18:7799) gives the
change of local PM2.5 [μg/m³] as a polynomial in the fractional emission cuts x_p [-] (0 = no
cut, 1 = the pollutant's local emissions removed) of ``nox``, ``so2``, ``nh3``, ``voc`` and
``pm25`` (primary PM2.5)::

    ΔPM2.5 = Σ_terms a_k Π_p x_p^{n_kp}        a_k [μg/m³], n_kp integer ≥ 0

Sign convention: ΔPM2.5 is scenario minus baseline, so a surface that lowers PM2.5 for cuts has
negative values there (e.g. a linear NOx term ``-20 x_nox``).

CSV form (UTF-8), one term a row::

    # source: where the coefficients come from (required)
    # valid_max_cut: nox=0.6 so2=0.6 nh3=0.4 voc=0.5 pm25=0.7     (optional)
    # any other comment line
    component,coefficient_ug_m3,nox,so2,nh3,voc,pm25
    nitrate,-20,1,0,0,0,0

``coefficient_ug_m3`` is required; the pollutant columns hold exponents (blank = 0); a column
for a pollutant the surface does not use may be left out. ``component`` (optional, ``primary``,
``sulfate``, ``nitrate``, ``ammonium``, ``soa``) says which PM2.5 component the term changes;
without it a term counts to the component of its first pollutant in the order pm25 → primary,
so2 → sulfate, nox → nitrate, voc → soa, nh3 → ammonium (as the linear model's sensitivities).
A ``note`` column is allowed and ignored. Lines starting with ``#`` before the header are
comments; ``# key: value`` comment lines with the keys ``source`` and ``valid_max_cut`` are read.
Row numbers in errors are line numbers of the file (the header's included), as a spreadsheet
shows them.

YAML form: a mapping ``{source: ..., valid_max_cut: {nox: 0.6, ...}, terms: [{coefficient_ug_m3:
-20, nox: 1, component: nitrate}, ...]}``.

``valid_max_cut``: the largest cut [-] of each pollutant the surface was fitted over; beyond it
the surface extrapolates, which a run reports as a note, not an error.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.config.yamlio import read_yaml
from sim.errors import InputError

#: The pollutants a surface may use, as the emissions name them.
SURFACE_POLLUTANTS = ("nox", "so2", "nh3", "voc", "pm25")
#: The PM2.5 components a term may be given to.
SURFACE_COMPONENTS = ("primary", "sulfate", "nitrate", "ammonium", "soa")
#: The component of a term without one: that of its first pollutant in this order.
DEFAULT_COMPONENT = {"pm25": "primary", "so2": "sulfate", "nox": "nitrate", "voc": "soa", "nh3": "ammonium"}
COEFFICIENT = "coefficient_ug_m3"
_OTHER_COLUMNS = ("component", "note")
_META = ("source", "valid_max_cut")
_EXAMPLE = "coefficient_ug_m3,nox,so2,nh3,voc,pm25 with a row such as -20,1,0,0,0,0"


@dataclass(frozen=True, eq=False)
class ResponseSurface:
    """Terms of a response surface.

    Attributes
    ----------
    coefficients_ug_m3: a_k [μg/m³], shape (terms,).
    exponents: n_kp [-], integers ≥ 0, shape (terms, len(pollutants)); no all-zero row.
    pollutants: the pollutant of each exponent column (:data:`SURFACE_POLLUTANTS`).
    components: each term's component (:data:`SURFACE_COMPONENTS`).
    valid_max_cut: the largest fitted cut [-] by pollutant (those given).
    source: where the coefficients come from.
    file: the file read (for messages), if any.
    """

    coefficients_ug_m3: np.ndarray
    exponents: np.ndarray
    pollutants: tuple[str, ...] = SURFACE_POLLUTANTS
    components: tuple[str, ...] = ()
    valid_max_cut: Mapping[str, float] | None = None
    source: str = ""
    file: str | None = None

    @classmethod
    def from_terms(cls, terms: list[Mapping[str, Any]], **kwargs: Any) -> "ResponseSurface":
        """A surface from plain terms, e.g. ``[{"coefficient_ug_m3": -20, "nox": 1}, ...]``,
        validated like a file's (errors name ``kwargs['file']`` and ``terms[i]``)."""
        return _build(terms, [f"key terms[{i}]" for i in range(len(terms))], kwargs.get("file"), kwargs.get("valid_max_cut"), kwargs.get("source", ""),
                      yaml_keys=True)


def load_response_surface(path: str | Path, key: str = "atmosphere.response_surface.coefficients") -> ResponseSurface:
    """Read a coefficient file (``.csv``, or ``.yaml``/``.yml``), see the module docstring.

    Raises InputError naming the file, the row (or key) and the fix for: a missing or empty
    file, no source, an unknown column or pollutant, a missing or non-numeric coefficient, a
    non-integer or negative exponent, an unknown component, a constant term (all exponents 0),
    the same term twice, a bad ``valid_max_cut``.
    """
    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        return _read_yaml(path, key)
    if not path.exists():
        raise InputError(path, f"key {key}", "the response-surface coefficient file does not exist.", "check the path (relative paths start at the scenario file's folder).")
    if path.is_dir():
        raise InputError(path, f"key {key}", "the response-surface path is a folder, not a file.", "name the CSV or YAML file itself.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(path, None, "the file is not UTF-8 text.", "save it as CSV UTF-8.") from None
    meta: dict[str, tuple[int, str]] = {}
    header: list[str] | None = None
    header_line = 0
    rows: list[tuple[int, list[str]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if header is None and (not stripped or stripped.startswith("#")):
            found = re.match(r"#\s*([A-Za-z_]+)\s*:\s*(.*)$", stripped)
            if found and found.group(1).lower() in _META:
                meta[found.group(1).lower()] = (number, found.group(2).strip())
            continue
        if header is None:
            header, header_line = [c.strip() for c in next(csv.reader(io.StringIO(line)))], number
            continue
        if not stripped.strip(","):
            continue  # a blank row
        rows.append((number, next(csv.reader(io.StringIO(line)))))
    if header is None:
        raise InputError(path, None, "the file is empty (no header row, no terms).", f"write a header and one row per term: {_EXAMPLE}.")
    _check_columns(header, path, f"row {header_line}")
    if not rows:
        raise InputError(path, f"row {header_line}", "the file has a header but no terms.", f"add one row per term: {_EXAMPLE}.")
    terms, places = [], []
    for number, cells in rows:
        if len(cells) > len(header):
            raise InputError(path, f"row {number}", f"the row has {len(cells)} cells but the header {len(header)}.", "quote cells that contain commas, or remove the extra cells.")
        terms.append({name: cell.strip() for name, cell in zip(header, cells) if cell.strip() != ""})
        places.append(f"row {number}")
    valid = None
    if "valid_max_cut" in meta:
        number, value = meta["valid_max_cut"]
        valid = _parse_valid_text(value, path, f"row {number} (valid_max_cut)")
    source = meta.get("source", (0, ""))[1]
    if not source:
        raise InputError(path, "comment lines", "the file does not say where its coefficients come from.",
                         "add a line '# source: <publication, table and region>' or '# source: estimate - <how they were made>' above the header.")
    return _build(terms, places, path, valid, source)


def _read_yaml(path: Path, key: str) -> ResponseSurface:
    raw = read_yaml(path, "response-surface coefficient", key)
    unknown = [k for k in raw if k not in ("source", "valid_max_cut", "terms", "note")]
    if unknown:
        raise InputError(path, f"key {unknown[0]}", f"unknown key '{unknown[0]}'.", "use source, valid_max_cut, terms and optionally note.")
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        raise InputError(path, "key source", "the file does not say where its coefficients come from.", "add source: '<publication, table and region>' or 'estimate - <how they were made>'.")
    terms = raw.get("terms")
    if not isinstance(terms, list) or not terms:
        raise InputError(path, "key terms", "there are no terms.", "give terms: [{coefficient_ug_m3: -20, nox: 1}, ...].")
    for i, term in enumerate(terms):
        if not isinstance(term, Mapping):
            raise InputError(path, f"key terms[{i}]", "a term must be a mapping.", "write e.g. {coefficient_ug_m3: -20, nox: 1}.")
        _check_names(list(term), path, f"key terms[{i}]", yaml_keys=True)
    valid = raw.get("valid_max_cut")
    if valid is not None:
        if not isinstance(valid, Mapping):
            raise InputError(path, "key valid_max_cut", "valid_max_cut must be a mapping by pollutant.", "write e.g. {nox: 0.6, so2: 0.6}.")
        valid = {str(p): _cut_value(v, path, f"key valid_max_cut.{p}") for p, v in valid.items()}
        _check_pollutants(valid, path, "key valid_max_cut")
    return _build(terms, [f"key terms[{i}]" for i in range(len(terms))], path, valid, source.strip(), yaml_keys=True)


def _check_names(names: list[str], file: Path, where: str, *, yaml_keys: bool = False) -> None:
    allowed = (COEFFICIENT, *SURFACE_POLLUTANTS, *_OTHER_COLUMNS)
    for name in names:
        if name not in allowed:
            hint = " (primary PM2.5 is pm25, NOx is nox)" if str(name).lower() in ("pm", "pm2.5", "pm10", "no2", "nox_no2", "vocs") else ""
            raise InputError(file, f"{where}.{name}" if yaml_keys else f"{where}, column {name or '(blank)'}",
                             f"'{name}' is not a {'key' if yaml_keys else 'column'} of a response surface{hint}.",
                             f"use {COEFFICIENT}, the pollutants {', '.join(SURFACE_POLLUTANTS)} and optionally component and note.")


def _check_columns(names: list[str], file: Path, where: str) -> None:
    _check_names(names, file, where)
    seen = set()
    for name in names:
        if name in seen:
            raise InputError(file, f"{where}, column {name}", f"the column '{name}' appears twice.", "keep one of them.")
        seen.add(name)
    if COEFFICIENT not in names:
        raise InputError(file, where, f"there is no {COEFFICIENT} column.", f"add the coefficient of each term [μg/m³]: {_EXAMPLE}.")
    if not any(p in names for p in SURFACE_POLLUTANTS):
        raise InputError(file, where, "there is no pollutant column.", f"add exponent columns among {', '.join(SURFACE_POLLUTANTS)}.")


def _check_pollutants(valid: Mapping[str, float], file: Path, where: str) -> None:
    unknown = [p for p in valid if p not in SURFACE_POLLUTANTS]
    if unknown:
        raise InputError(file, f"{where}.{unknown[0]}", f"unknown pollutant '{unknown[0]}'.", f"use one of {', '.join(SURFACE_POLLUTANTS)}.")


def _cut_value(value: Any, file: Path, where: str) -> float:
    try:
        number = float(value) if not isinstance(value, bool) else float("nan")
    except (TypeError, ValueError):
        number = float("nan")
    if not (np.isfinite(number) and 0.0 < number <= 1.0):
        raise InputError(file, where, f"'{value}' is not a cut between 0 and 1.", "write the largest fitted cut as a fraction, e.g. 0.6 for 60 %.")
    return number


def _parse_valid_text(text: str, file: Path, where: str) -> dict[str, float]:
    out = {}
    for item in text.replace(",", " ").split():
        if "=" not in item:
            raise InputError(file, where, f"'{item}' is not pollutant=cut.", "write e.g. '# valid_max_cut: nox=0.6 so2=0.6'.")
        p, v = item.split("=", 1)
        out[p.strip()] = _cut_value(v.strip(), file, f"{where}.{p.strip()}")
    _check_pollutants(out, file, where)
    return out


def _integer(value: Any) -> int | None:
    """A whole number ≥ 0 from a cell or YAML value (blank = 0), else None."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and value >= 0 else None
    text = str(value).strip()
    if re.fullmatch(r"\+?\d+(\.0*)?", text):
        return int(float(text))
    return None


def _build(terms: list[Mapping[str, Any]], places: list[str], file: str | Path | None, valid: Mapping[str, float] | None, source: str,
           *, yaml_keys: bool = False) -> ResponseSurface:
    def at(where: str, column: str) -> str:
        return f"{where}.{column}" if yaml_keys else f"{where}, column {column}"

    if not terms:
        raise InputError(file, None, "the surface has no terms.", f"give one term per row: {_EXAMPLE}.")
    coefficients, exponents, components, seen = [], [], [], {}
    for term, where in zip(terms, places):
        _check_names(list(term), Path(file) if file is not None else None, where, yaml_keys=yaml_keys)
        raw = term.get(COEFFICIENT)
        if raw is None or raw == "":
            raise InputError(file, at(where, COEFFICIENT), "the coefficient is missing.", "write the term's coefficient [μg/m³], negative where cuts lower PM2.5, or delete the row.")
        try:
            a = float(raw) if not isinstance(raw, bool) else float("nan")
        except (TypeError, ValueError):
            a = float("nan")
        if not np.isfinite(a):
            raise InputError(file, at(where, COEFFICIENT), f"'{raw}' is not a number.", "write the coefficient as a plain number [μg/m³], e.g. -20.5.")
        powers = []
        for p in SURFACE_POLLUTANTS:
            n = _integer(term.get(p))
            if n is None:
                raise InputError(file, at(where, p), f"the exponent '{term.get(p)}' is not a whole number ≥ 0.",
                                 f"write 0, 1, 2, ... (the power of the {p} cut in this term; blank means 0).")
            powers.append(n)
        if not any(powers):
            raise InputError(file, where, "the term has no pollutant (all exponents 0): a constant would change PM2.5 without any cut.",
                             "remove the row, or give the exponent of at least one pollutant.")
        component = term.get("component")
        component = str(component).strip().lower() if component not in (None, "") else None
        if component is not None and component not in SURFACE_COMPONENTS:
            raise InputError(file, at(where, "component"), f"'{component}' is not a PM2.5 component.", f"use one of {', '.join(SURFACE_COMPONENTS)}, or leave it blank.")
        if component is None:
            component = DEFAULT_COMPONENT[next(p for p in DEFAULT_COMPONENT if powers[SURFACE_POLLUTANTS.index(p)] > 0)]
        key = (component, tuple(powers))
        if key in seen:
            raise InputError(file, where, f"the same term ({component}, exponents {dict(zip(SURFACE_POLLUTANTS, powers))}) is already on {seen[key]}.", "add the two coefficients into one row.")
        seen[key] = where
        coefficients.append(a)
        exponents.append(powers)
        components.append(component)
    return ResponseSurface(
        coefficients_ug_m3=np.array(coefficients, dtype=float),
        exponents=np.array(exponents, dtype=np.int64),
        pollutants=SURFACE_POLLUTANTS,
        components=tuple(components),
        valid_max_cut=dict(valid) if valid else None,
        source=source,
        file=str(file) if file is not None else None,
    )
