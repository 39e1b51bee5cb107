"""Scenario files: YAML -> validated, frozen config objects.

This is the only module where raw dictionaries from user files live. Everything downstream
receives the frozen pydantic models defined here. Unknown keys are errors (a typo must never be
silently ignored); every error becomes one :class:`~sim.errors.InputError` naming the file, the
key and the fix. Relative paths are resolved against the directory of the file they appear in.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import pandas as pd
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from sim.config.agreement_file import AGREEMENT_COLUMNS, read_agreement_rows
from sim.config.dates import DATE_FIX, date_problem, parse_time
from sim.errors import InputError
from sim.config.vocabulary import LEVELS, POLLUTANTS, vocabulary
from sim.config.yamlio import read_yaml  # noqa: F401 - the one YAML reader, also used from here by sim.optimize.optimizer


class ProblemAt(ValueError):
    """A validation problem at ``key`` (a path below the model whose validator raises it, e.g.
    ``("rules",)``), with an optional fix; :func:`validation_to_input_error` reports both."""

    def __init__(self, key: tuple, problem: str, fix: str | None = None):
        super().__init__(problem)
        self.key, self.fix = tuple(key), fix


# --------------------------------------------------------------------------- field types


def _to_datetime(value: Any) -> Any:
    """Accept YAML dates and datetimes and the text forms of :mod:`sim.config.dates` (ISO or
    ``YYYY/MM/DD``, local time); a day or month before the year is ambiguous and refused."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):  # pydantic would read a number as seconds since 1970 in UTC
        raise ProblemAt((), f"{value!r} is a number, not a date or date-time", DATE_FIX)
    if isinstance(value, str):
        ts = parse_time(value)
        if ts is None:
            raise ProblemAt((), date_problem(value), DATE_FIX)
    elif isinstance(value, dt.date):
        try:
            ts = pd.Timestamp(value)
        except (ValueError, OverflowError):  # outside pandas' years 1677-2262
            raise ProblemAt((), f"'{value}' is not a date the simulator can use", DATE_FIX) from None
        if ts.tzinfo is not None:
            raise ProblemAt((), f"'{value}' carries a time zone; times are local, without one", DATE_FIX)
    else:
        return value
    return ts.to_pydatetime()


def _to_fraction(value: Any) -> Any:
    """``stop`` (停产) means the whole line stops: a reduction of 1.0."""
    if isinstance(value, str) and value.strip().lower() in {"stop", "停产", "停止生产"}:
        return 1.0
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            return float(value.strip()[:-1]) / 100.0
        except ValueError:
            return value
    return value


def _to_list(value: Any) -> Any:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return [str(value)]
    return value


def _to_level(value: Any) -> Any:
    level = vocabulary().canonical_level(value)
    if level is None:
        raise ValueError(f"'{value}' is not a warning level; use one of {', '.join(LEVELS)}")
    return level


def _to_grades(values: list[str]) -> list[str]:
    out = []
    for v in values:
        grade = vocabulary().canonical_grade(v)
        if grade is None:
            raise ValueError(f"'{v}' is not a performance grade; use one of {', '.join(vocabulary().grades)}")
        out.append(grade)
    return out


def _to_flags(values: list[str]) -> list[str]:
    for v in values:
        if v not in vocabulary().flags:
            raise ValueError(f"'{v}' is not a flag; use one of {', '.join(vocabulary().flags)}")
    return values


def _resolve_path(value: Path, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base_dir")
    path = Path(value).expanduser()
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    return path


DateTime = Annotated[dt.datetime, BeforeValidator(_to_datetime)]
Fraction = Annotated[float, BeforeValidator(_to_fraction), Field(ge=0.0, le=1.0)]
Names = Annotated[list[str], BeforeValidator(_to_list)]
Grades = Annotated[list[str], BeforeValidator(_to_list), AfterValidator(_to_grades)]
Flags = Annotated[list[str], BeforeValidator(_to_list), AfterValidator(_to_flags)]
Level = Annotated[str, BeforeValidator(_to_level)]
FilePath = Annotated[Path, AfterValidator(_resolve_path)]


class Frozen(BaseModel):
    # no inf or nan anywhere: '1E400' t/d would run as infinite emissions (inf/inf ratios)
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# --------------------------------------------------------------------------- policy


class LevelFractions(Frozen):
    """One fraction per warning level [-] (``stop`` = 1.0)."""

    yellow: Fraction
    orange: Fraction
    red: Fraction

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.yellow, self.orange, self.red)


class MonotoneReductions(LevelFractions):
    """Reductions per level [-]; a higher level never asks for less."""

    @model_validator(mode="after")
    def _monotone(self) -> "MonotoneReductions":
        if not (self.yellow <= self.orange <= self.red):
            raise ProblemAt(
                (),
                f"reductions must not fall as the level rises (yellow {self.yellow}, orange {self.orange}, red {self.red})",
                "give yellow <= orange <= red: a higher warning level never asks for less.",
            )
        return self


class Targets(Frozen):
    list: LevelFractions = LevelFractions(yellow=0.30, orange=0.40, red=0.50)
    society: LevelFractions = LevelFractions(yellow=0.10, orange=0.20, red=0.30)


class Exemptions(Frozen):
    """Lines left untouched by emergency measures (self-directed reduction, 自主减排)."""

    grades: Grades = []
    flags: Flags = []


class MeasureText(Frozen):
    yellow: str | None = None
    orange: str | None = None
    red: str | None = None


class LineSelector(Frozen):
    """The lines a named entry applies to: a condition left out matches everything; ``flags``
    requires all listed flags to be set. Shared by policy rules and optimiser menu entries."""

    name: str
    industry: Names | None = None
    process: Names | None = None
    grade: Grades | None = None
    city: Names | None = None
    flags: Flags = []


class Rule(LineSelector):
    """One measure rule: the first rule whose every given condition matches a line applies.

    A condition left out matches everything; ``flags`` requires all listed flags to be set.
    """

    exempt: bool = False
    reduction: MonotoneReductions | None = None
    measure: MeasureText = MeasureText()
    reason: str | None = Field(None, description="why its lines are exempt or handled apart, in words, Chinese first with the English in brackets "
                               "(保障类企业：以热定产/以量定产 (livelihood: demand-led)); shown in the list's reason column")
    source: str | None = None

    @model_validator(mode="after")
    def _exempt_or_reduction(self) -> "Rule":
        if self.exempt == (self.reduction is not None):
            raise ProblemAt((), "give either 'exempt: true' or a 'reduction' per level, not both or neither",
                            "keep 'exempt: true' (the lines are not cut) or the 'reduction', and remove the other.")
        return self


#: Pollutant keys of a negotiated cut and the pollutants each cuts (``pm``: PM10 and PM2.5, 颗粒物).
NEGOTIATED_POLLUTANTS: dict[str, tuple[str, ...]] = {"so2": ("so2",), "nox": ("nox",), "pm": ("pm10", "pm25"), "voc": ("voc",)}


def _blank_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


OptionalFraction = Annotated[Fraction | None, BeforeValidator(_blank_none)]


class NegotiatedTerms(Frozen):
    """What a negotiated cut (协商减排) asks of its lines from ``from_level`` upward: a cut of
    production [-] (``production_cut``: every pollutant and the output value fall with it)
    and/or a cut of single pollutants' emissions [-] (``nox_cut``: e.g. SCR run harder; the
    output value and the other pollutants are untouched). Where a grade measure also applies,
    the deeper cut of each pollutant holds."""

    from_level: Level = "orange"
    production_cut: OptionalFraction = None
    so2_cut: OptionalFraction = None
    nox_cut: OptionalFraction = None
    pm_cut: OptionalFraction = None
    voc_cut: OptionalFraction = None
    measure_zh: str | None = Field(None, description="the agreed measure in Chinese (协商减排措施)")
    measure_en: str | None = Field(None, description="the agreed measure in English")
    source: str | None = Field(None, description="where the agreement or its figures come from, or 'estimate' with the reasoning")

    @model_validator(mode="after")
    def _some_cut(self) -> "NegotiatedTerms":
        if all(getattr(self, f"{k}_cut") in (None, 0.0) for k in ("production", *NEGOTIATED_POLLUTANTS)):
            raise ProblemAt((), "the agreement cuts nothing (no production_cut, so2_cut, nox_cut, pm_cut or voc_cut above 0)",
                            "give the agreed cut, e.g. nox_cut: 0.3 (or 30%) or production_cut: 0.2.")
        return self

    def pollutant_cut(self, pollutant: str) -> float:
        """The cut of one pollutant of :data:`POLLUTANTS` [-]: its own cut or the production cut, the deeper."""
        own = next((getattr(self, f"{k}_cut") for k, ps in NEGOTIATED_POLLUTANTS.items() if pollutant in ps), None)
        return max(own or 0.0, self.production_cut or 0.0)

    def words(self) -> str:
        """The measure in words, "中文 (English)"."""
        zh, en = self.measure_zh or "", self.measure_en or ""
        return f"{zh} ({en})" if zh and en else zh or en


class Agreement(NegotiatedTerms):
    """One negotiated cut with an enterprise (a row of the agreements file): its lines
    (``line_id``; left out: every production line of the enterprise)."""

    enterprise_id: Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v)]
    line_id: Annotated[str | None, BeforeValidator(lambda v: _blank_none(str(v)) if isinstance(v, (int, float, str)) and not isinstance(v, bool) else v)] = None


class RankRule(LineSelector, NegotiatedTerms):
    """Candidates for negotiated cuts by rank: the largest emitters (enterprises, by their lines
    the selector matches) of ``pollutant``, taken largest first until they cover ``share`` of
    the listed emissions of that pollutant in their city (``share_of: selected``: of the lines
    the selector matches; ``city``: of every listed line of the city). Ties in emissions are
    broken by ``enterprise_id`` in ascending text order. The terms apply to the matched lines
    of the enterprises taken."""

    pollutant: Literal["so2", "nox", "pm", "voc"]
    share: Annotated[float, BeforeValidator(_to_fraction), Field(gt=0.0, le=1.0)]
    share_of: Literal["selected", "city"] = "selected"


class NegotiatedCuts(Frozen):
    """Negotiated deep cuts with the largest emitters (协商减排, 003 item 31): agreements named
    enterprise by enterprise (``agreements``: a CSV or YAML file, or a list) and/or candidates
    chosen by rank (``rank``). They come on top of the grade measures and apply to exempt lines
    too (they are agreements, not grade measures)."""

    agreements: FilePath | list[Agreement] = []
    rank: list[RankRule] = []
    # the agreements file, for messages: not part of the format
    file: Path | None = Field(None, exclude=True)
    rows: tuple[str, ...] = Field((), exclude=True)  # where each agreement stands in it ("row 3")

    @model_validator(mode="after")
    def _unique_rank_names(self) -> "NegotiatedCuts":
        names = [r.name for r in self.rank]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ProblemAt(("rank",), f"rank rule names must be unique; repeated: {', '.join(dupes)}", "rename one of the rules.")
        return self

    @property
    def resolved_agreements(self) -> list[Agreement]:
        assert not isinstance(self.agreements, Path), "load_policy reads the agreements file"
        return list(self.agreements)


class Policy(Frozen):
    """Grade measures, exemptions and targets (rules are data; see scenarios/policies/)."""

    name: str = "policy"
    description: str = ""
    source: str | None = None
    targets: Targets = Targets()
    base_ratio: MonotoneReductions = MonotoneReductions(yellow=0.30, orange=0.40, red=0.50)
    exempt: Exemptions = Exemptions()
    rules: list[Rule] = []
    negotiated: NegotiatedCuts | None = Field(None, description="negotiated deep cuts (协商减排) with the largest emitters, on top of the grade measures")
    # the file it was read from, for messages: not part of the format
    file: Path | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _unique_rule_names(self) -> "Policy":
        names = [r.name for r in self.rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ProblemAt(("rules",), f"rule names must be unique; repeated: {', '.join(dupes)}", "rename one of the rules.")
        return self


# --------------------------------------------------------------------------- other sources


class PollutantValues(Frozen):
    so2: float = Field(0.0, ge=0)
    nox: float = Field(0.0, ge=0)
    pm10: float = Field(0.0, ge=0)
    pm25: float = Field(0.0, ge=0)
    voc: float = Field(0.0, ge=0)
    nh3: float = Field(0.0, ge=0)

    @model_validator(mode="after")
    def _pm25_within_pm10(self) -> "PollutantValues":
        if self.pm25 > self.pm10:
            raise ProblemAt((), f"pm25 ({self.pm25}) cannot exceed pm10 ({self.pm10})", "PM2.5 is part of PM10: give pm25 <= pm10.")
        return self


class PollutantFractions(Frozen):
    so2: Fraction = 0.0
    nox: Fraction = 0.0
    pm10: Fraction = 0.0
    pm25: Fraction = 0.0
    voc: Fraction = 0.0
    nh3: Fraction = 0.0


def _fraction_or_per_pollutant(value: Any) -> Any:
    """A single fraction applies to every pollutant."""
    value = _to_fraction(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {p: value for p in POLLUTANTS}
    return value


CategoryCut = Annotated[PollutantFractions, BeforeValidator(_fraction_or_per_pollutant)]


class CategoryReductions(Frozen):
    yellow: CategoryCut = PollutantFractions()
    orange: CategoryCut = PollutantFractions()
    red: CategoryCut = PollutantFractions()

    @model_validator(mode="after")
    def _monotone(self) -> "CategoryReductions":
        for p in POLLUTANTS:
            y, o, r = (getattr(getattr(self, lv), p) for lv in LEVELS)
            if not (y <= o <= r):
                raise ProblemAt((), f"the {p} reduction must not fall as the level rises (yellow {y}, orange {o}, red {r})",
                                "give yellow <= orange <= red: a higher warning level never asks for less.")
        return self


class Profile(Frozen):
    hourly: str = "flat"
    weekly: str = "flat"


class OtherSourceCategory(Frozen):
    """A non-industrial source category as a city total (traffic, dust, residential ...)."""

    name: str
    name_zh: str | None = None
    emissions_t_d: PollutantValues
    profile: Profile = Profile()
    reduction: CategoryReductions = CategoryReductions()
    measure: MeasureText = MeasureText()
    source: str | None = None


class OtherSources(Frozen):
    city: str = "all"
    description: str = ""
    source: str | None = None
    categories: list[OtherSourceCategory]
    # the file it was read from, for messages: not part of the format
    file: Path | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _unique(self) -> "OtherSources":
        names = [c.name for c in self.categories]
        if len(set(names)) != len(names):
            raise ValueError("category names must be unique")
        return self


# --------------------------------------------------------------------------- scenario


class Period(Frozen):
    """Simulated period; hourly steps, ``end`` exclusive, local time."""

    start: DateTime
    end: DateTime

    @model_validator(mode="after")
    def _ordered(self) -> "Period":
        if self.end <= self.start:
            raise ProblemAt(("end",), f"end ({self.end}) must be after start ({self.start})", "give an end later than the start (the end is exclusive).")
        for name in ("start", "end"):
            t = getattr(self, name)
            if t.minute or t.second or t.microsecond:
                raise ProblemAt((name,), f"{name} ({t}) must fall on the hour", "give a whole hour, e.g. 2023-12-01T00:00.")
        return self

    @property
    def hours(self) -> int:
        return int((self.end - self.start).total_seconds() // 3600)


class InventoryConfig(Frozen):
    enterprises: FilePath
    emission_factors: FilePath
    other_sources: FilePath | OtherSources | list[FilePath | OtherSources] | None = None
    sheet: str | None = Field(None, description="worksheet to read when the list is an .xlsx with several sheets")
    header_row: int | None = Field(None, ge=1, strict=True, description="row number (1 = first row) of the list's header, when title rows stand above it")


class ScheduledWarning(Frozen):
    """A warning in force from ``start`` to ``end`` (end exclusive)."""

    level: Level
    start: DateTime
    end: DateTime
    city: Names | None = Field(None, description="cities it applies to (all when left out)")

    @model_validator(mode="after")
    def _ordered(self) -> "ScheduledWarning":
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        for name in ("start", "end"):
            t = getattr(self, name)
            if t.minute or t.second or t.microsecond:
                raise ValueError(f"{name} ({t}) must fall on the hour")
        return self


class ForecastConfig(Frozen):
    """Forecast of daily PM2.5 used by the warning centre.

    Without ``file``: the baseline PM2.5 of the meteorology file times a lognormal error,
    exp(bias + σ_k z), σ_k from ``error_sigma_by_lead_day`` (day 0 = the issue day; the last
    value holds beyond the list), z drawn from the member's generator. With ``file``: a CSV with
    one row per issue date and target date (columns ``issue_date``, ``target_date`` and
    ``pm25_ug_m3`` or ``aqi``).
    """

    error_sigma_by_lead_day: list[Annotated[float, Field(ge=0)]] = [0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45]
    bias: float = 0.0
    file: FilePath | None = None


class WarningsConfig(Frozen):
    """Warnings: a fixed ``schedule``, or a ``standard`` with which the warning centre decides
    from forecasts each day at ``issue_hour``. ``regional``: provincial warnings the city must
    follow at their level at once."""

    schedule: list[ScheduledWarning] = []
    standard: str | None = None
    issue_hour: int = Field(10, ge=0, le=23)
    horizon_days: int = Field(7, ge=1, le=15)
    lead_hours: int = Field(24, ge=0)
    lift_after_hours: int = Field(36, ge=0)
    forecast: ForecastConfig = ForecastConfig()
    regional: list[ScheduledWarning] = []

    @model_validator(mode="after")
    def _one_source(self) -> "WarningsConfig":
        if self.schedule and self.standard:
            raise ValueError("give either a fixed 'schedule' or a 'standard' for forecast-driven warnings, not both")
        return self


class CalendarRule(Frozen):
    """A staggered-production (错峰生产) rule: a production cut on a calendar window.

    ``end`` is exclusive: a stop 15 Nov - 15 Mar is written ``start: 2023-11-15, end: 2024-03-16``.
    """

    name: str | None = None
    industry: Names
    process: Names | None = None
    grade: Grades | None = None
    city: Names | None = None
    start: DateTime
    end: DateTime
    reduction: Fraction
    exempt_grades: Grades = []
    exempt_flags: Flags = []
    source: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "CalendarRule":
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        both = [g for g in self.grade or () if g in self.exempt_grades]
        if both:
            raise ProblemAt(("exempt_grades",), f"grade '{both[0]}' is both named in 'grade' and exempted in 'exempt_grades', so the rule contradicts itself",
                            f"remove '{both[0]}' from exempt_grades (the grade is cut) or from grade (it is not).")
        return self

    @property
    def label(self) -> str:
        return self.name or f"{'/'.join(self.industry)}:{'/'.join(self.process or ['all'])}"


class InspectionConfig(Frozen):
    """Daily inspections: ``per_day`` lines under measures visited at ``hour_of_day``; a
    non-complying line is caught with ``catch_probability`` and complies from then on."""

    per_day: int = Field(ge=0)
    catch_probability: Fraction
    hour_of_day: int = Field(10, ge=0, le=23)


def _compliance(value: Any) -> Any:
    value = _to_fraction(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"default": value}
    if isinstance(value, str):
        raise ProblemAt((), f"'{value}' is not a probability", "write e.g. 0.95 or 95%, or one value per grade with 'default'.")
    return value


class ResponseConfig(Frozen):
    """How enterprises respond to a warning.

    ``delay_hours``: hours from a warning's start (or upgrade) until lines reach the new level,
    by industry, with ``default`` for the rest. ``compliance``: the probability that a line
    carries out its measures during a warning [-], one number or by grade with ``default``;
    drawn per line at the start of each warning from the member's generator.
    """

    delay_hours: dict[str, Annotated[int, Field(ge=0)]] = {"default": 0}
    compliance: Annotated[dict[str, Fraction], BeforeValidator(_compliance)] = {"default": 1.0}
    inspections: InspectionConfig | None = None

    @model_validator(mode="after")
    def _grade_keys(self) -> "ResponseConfig":
        for key in self.compliance:
            if key != "default" and vocabulary().canonical_grade(key) is None:
                raise ValueError(f"compliance key '{key}' is neither 'default' nor a performance grade")
        return self

    def delay_for(self, industry: str) -> int:
        return self.delay_hours.get(industry, self.delay_hours.get("default", 0))

    def compliance_for(self, grade: str) -> float:
        by_grade = {vocabulary().canonical_grade(k): v for k, v in self.compliance.items() if k != "default"}
        return by_grade.get(grade, self.compliance.get("default", 1.0))


class LinearSettings(Frozen):
    """The linear response model: sensitivities [μg/m³ per t/h] and a time constant [h]."""

    sensitivities_ug_m3_per_t_h: dict[Literal["so2", "nox", "pm10", "pm25", "voc", "nh3"], float]
    time_constant_h: float = Field(gt=0)


class ResponseSurfaceSettings(Frozen):
    """The response-surface model: a coefficient file (CSV or YAML, format in
    ``sim/inputs/response_surface.py``) and the time constant [h] of the first-order lag with
    which ΔPM2.5 follows the surface value of the hour's emission cuts."""

    coefficients: FilePath
    time_constant_h: float = Field(24.0, gt=0)


class CityAtmosphere(Frozen):
    """One city's box: its meteorology file and, optionally, its own local share and parameter
    overrides (e.g. ``area_km2``) on top of the scenario-wide ones. ``lat``, ``lon`` [degrees]
    and ``area_km2`` [km²] place the city for the regional model (needed there; ``area_km2``
    also sets the box model's area)."""

    meteorology: FilePath
    local_share: float | None = Field(None, ge=0.0, le=1.0)
    parameters: dict[str, Any] = {}
    lat: float | None = Field(None, ge=-90.0, le=90.0, description="latitude of the city's centre [degrees north]")
    lon: float | None = Field(None, ge=-180.0, le=180.0, description="longitude of the city's centre [degrees east]")
    area_km2: float | None = Field(None, gt=0.0, description="area whose sources the city's box holds [km²]")


class AtmosphereConfig(Frozen):
    """PM2.5 projection (``sim/physics/atmosphere.py``, ``sim/physics/projection.py``).

    ``model``: ``box`` (one box per city, calibrated to ``local_share``), ``linear``
    (user sensitivities) or ``regional`` (coupled city boxes, ``sim/physics/regional.py``:
    the local share comes out of the model and ``local_share`` is only checked against it).
    ``meteorology``: hourly CSV with baseline PM2.5 and weather. ``local_share``: share of the
    mean baseline PM2.5 made locally [-], for the calibration scale. ``parameters``: overrides
    of ``sim/data/atmosphere.yaml``. ``regional_background_cut``: when the region warns at the
    same levels and times as the city, the background falls by this fraction per level [-],
    reached with a first-order lag of ``regional_response_h`` [h]. ``spin_up_days``: days of the
    first day's weather and emissions run before the period so that it starts in equilibrium.
    ``response_surface``: with ``model: response_surface``, the coefficient file and lag; the
    surface gives μg/m³ directly, so it takes no ``local_share`` (README.md, atmosphere models).
    """

    model: Literal["box", "linear", "regional", "response_surface"] = "box"
    meteorology: FilePath | None = None
    cities: dict[str, "CityAtmosphere"] = {}
    local_share: float | None = Field(None, ge=0.0, le=1.0)
    parameters: dict[str, Any] = {}
    linear: LinearSettings | None = None
    response_surface: ResponseSurfaceSettings | None = None
    regional_background_cut: LevelFractions | None = None
    regional_response_h: float = Field(24.0, gt=0)
    spin_up_days: int = Field(3, ge=0, le=30)
    draw_parameters: bool = Field(False, description="each ensemble member draws the uncertain parameters of the box or regional model within the ranges of its parameter file")

    @model_validator(mode="after")
    def _one_box_or_cities(self) -> "AtmosphereConfig":
        if (self.meteorology is None) == (not self.cities):
            raise ValueError("give either one 'meteorology' file (one box) or 'cities' with a meteorology file per city")
        return self

    def for_city(self, city: str | None) -> "AtmosphereConfig":
        """The single-box settings of one city (the top-level ones without ``cities``)."""
        if not self.cities:
            return self
        own = self.cities[city]
        return self.model_copy(update={
            "meteorology": own.meteorology,
            "cities": {},
            "local_share": own.local_share if own.local_share is not None else self.local_share,
            "parameters": {**self.parameters, **own.parameters, **({"area_km2": own.area_km2} if own.area_km2 is not None and self.model == "box" else {})},
        })

    @model_validator(mode="after")
    def _regional_settings(self) -> "AtmosphereConfig":
        if self.model != "regional":
            return self
        if not self.cities:
            raise ProblemAt(("cities",), "model: regional needs its cities under 'cities', each with meteorology, lat and lon",
                            "write cities: {CITY: {meteorology: FILE, lat: 38.04, lon: 114.51, area_km2: 4000}}.")
        for name, city in self.cities.items():
            for key, what in (("lat", "[degrees] of the city's centre"), ("lon", "[degrees] of the city's centre"), ("area_km2", "[km²], the area whose sources the city's box holds")):
                if getattr(city, key) is None:
                    raise ProblemAt(("cities", name, key), f"the regional model needs the position and area of city '{name}'",
                                    f"add {key} {what}.")
        for name, city in self.cities.items():
            if city.parameters:
                raise ProblemAt(("cities", name, "parameters"), "the regional model's parameters are one set for the whole region",
                                "move them to atmosphere.parameters (a city's own area is cities.CITY.area_km2).")
        if self.regional_background_cut is not None:
            raise ProblemAt(("regional_background_cut",), "the regional model computes what the neighbours' measures do, so a fixed regional background cut would count them twice",
                            "remove regional_background_cut, or use model: box.")
        return self

    @model_validator(mode="after")
    def _linear_settings(self) -> "AtmosphereConfig":
        if self.model == "linear" and self.linear is None:
            raise ValueError("model: linear needs a 'linear' block with sensitivities_ug_m3_per_t_h and time_constant_h")
        if self.model != "linear" and self.linear is not None:
            raise ValueError("'linear' settings are only used with model: linear")
        if self.model == "response_surface" and self.response_surface is None:
            raise ValueError("model: response_surface needs a 'response_surface' block with coefficients (a CSV or YAML file) and time_constant_h")
        if self.model != "response_surface" and self.response_surface is not None:
            raise ValueError("'response_surface' settings are only used with model: response_surface")
        if self.model == "response_surface" and (self.local_share is not None or any(c.local_share is not None for c in self.cities.values())):
            raise ValueError("local_share calibrates the box and linear models; a response surface gives μg/m³ directly, remove local_share")
        return self


class EnsembleConfig(Frozen):
    """Monte Carlo members and the seed. Strict whole numbers: YAML's ``true`` would otherwise
    pass as 1 member and ``"200"`` or ``2.0`` as numbers, hiding a slip."""

    members: int = Field(1, ge=1, strict=True)
    seed: int = Field(0, ge=0, strict=True)


class OutputConfig(Frozen):
    """Where and how results are written. ``dir``: the output folder (``--out`` wins).
    ``report``: report.html, charts/ and measures.xlsx (``--no-report`` turns them off).
    ``format``: the tables as ``csv`` (the default), ``parquet`` (for large lists: smaller,
    typed, read with ``pandas.read_parquet``) or ``both`` (``--format`` wins)."""

    dir: FilePath
    report: bool = True
    format: Literal["csv", "parquet", "both"] = "csv"


class EvaluationConfig(Frozen):
    """After-action evaluation (效果评估) of an episode: what really happened, read only by
    ``run_scenario.py SCENARIO.yaml --evaluate`` (formats in :mod:`sim.inputs.evaluation`).

    ``observed_pm25``: hourly observed PM2.5 (``time, pm25_ug_m3``); ``warnings_issued``: the
    warnings really issued (``level, issued_at, start, end``); ``forecasts``: the daily forecasts
    issued (``issue_date, target_date, pm25_ug_m3`` or ``aqi``); ``power_use``: cumulative meter
    readings per enterprise [and line] (``time, enterprise_id, line_id, meter, kwh``, meter
    ``production`` or ``treatment``, hourly or daily); ``cems``: optional hourly stack
    emissions (``time, enterprise_id, line_id, so2_kg_h, nox_kg_h, pm_kg_h``);
    ``baseline_days``: days before the first warning that define each meter's normal load.
    Without ``forecasts`` there is no forecast skill; without ``power_use`` no line is checked
    and every line counts as carried out as planned (a real episode evaluated from the
    observed PM2.5 and the published measures alone).
    """

    observed_pm25: FilePath
    warnings_issued: FilePath
    forecasts: FilePath | None = None
    power_use: FilePath | None = None
    cems: FilePath | None = None
    baseline_days: int = Field(7, ge=1, le=60, strict=True)

    def files(self) -> list[tuple[str, Path]]:
        """(key, path) of every file the block names."""
        return [(f"evaluation.{k}", Path(getattr(self, k))) for k in ("observed_pm25", "warnings_issued", "forecasts", "power_use", "cems")
                if getattr(self, k) is not None]


class Scenario(Frozen):
    """A validated scenario. Build it with :func:`load_scenario`."""

    name: str
    description: str = ""
    period: Period
    inventory: InventoryConfig
    policy: Union[FilePath, Policy]
    warnings: WarningsConfig = WarningsConfig()
    staggered_production: list[CalendarRule] = []
    response: ResponseConfig = ResponseConfig()
    atmosphere: AtmosphereConfig | None = None
    ensemble: EnsembleConfig = EnsembleConfig()
    output: OutputConfig
    evaluation: EvaluationConfig | None = Field(None, description="after-action evaluation inputs, read by --evaluate")
    # where the scenario came from: not part of the file format
    source_file: Path | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _warnings_inside_period(self) -> "Scenario":
        for key in ("schedule", "regional"):
            for i, w in enumerate(getattr(self.warnings, key)):
                if w.end <= self.period.start or w.start >= self.period.end:
                    raise ProblemAt(
                        ("warnings", key, i),
                        f"the warning ({w.start} to {w.end}) lies outside the period "
                        f"{self.period.start} to {self.period.end}",
                        "move the warning into the period, or widen the period.",
                    )
        if self.warnings.standard and self.warnings.forecast.file is None and self.atmosphere is None:
            raise ProblemAt(
                ("warnings", "standard"),
                "forecast-driven warnings need the baseline PM2.5 of an 'atmosphere.meteorology' file, "
                "or a 'warnings.forecast.file'",
                "add an 'atmosphere' block with a meteorology file, or give warnings.forecast.file, or use a fixed warnings.schedule.",
            )
        if self.atmosphere is not None and self.atmosphere.draw_parameters:
            if self.atmosphere.model not in ("box", "regional"):
                raise ProblemAt(("atmosphere", "draw_parameters"), f"members draw the parameters of the box and regional models only, not of model: {self.atmosphere.model}",
                                "remove draw_parameters, or use model: box or regional.")
            if self.ensemble.members < 2:
                raise ProblemAt(("atmosphere", "draw_parameters"), "drawn parameters need an ensemble to show their spread",
                                "set ensemble.members to 100 or more, or remove draw_parameters.")
        return self

    @property
    def resolved_policy(self) -> Policy:
        assert isinstance(self.policy, Policy), "load_scenario resolves the policy file"
        return self.policy

    @property
    def resolved_other_sources(self) -> list[OtherSources]:
        other = self.inventory.other_sources
        other = [] if other is None else other if isinstance(other, list) else [other]
        assert all(isinstance(o, OtherSources) for o in other), "load_scenario resolves other_sources"
        return other

    def replace(self, **changes: Any) -> "Scenario":
        """A copy with top-level fields replaced (e.g. ``policy=...``), validated again."""
        data = {k: getattr(self, k) for k in type(self).model_fields}
        data.update(changes)
        return type(self).model_validate(data)


def scenario_json_schema() -> dict:
    """JSON Schema of the scenario file, for editors."""
    schema = Scenario.model_json_schema(mode="validation")
    schema["properties"].pop("source_file", None)
    for definition in schema.get("$defs", {}).values():
        definition.get("properties", {}).pop("file", None)
        definition.get("properties", {}).pop("rows", None)
    schema["title"] = "Heavy-pollution emergency response scenario"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


# --------------------------------------------------------------------------- loading


def _model_names(cls: type = BaseModel) -> set[str]:
    names = set()
    for sub in cls.__subclasses__():
        names |= {sub.__name__} | _model_names(sub)
    return names


def _loc(loc: tuple) -> str:
    # pydantic inserts the union member it tried ("Policy", "function-after[...]", "str"): not a
    # key of the file. A user's own key (a grade "A" under compliance) is kept.
    skip = _model_names() | {"str", "float", "int", "bool", "path", "none", "literal"}
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif "[" in str(part) or str(part) in skip:
            continue
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The pydantic model class that owns the last key of ``loc``, for listing allowed keys."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            continue
        current = _model_in(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _member_tag(part: object) -> bool:
    """A part of an error location that names the union member tried, not a key."""
    return isinstance(part, str) and (part[:1].isupper() or "[" in part or part in {"str", "float", "int"})


def _union_artefact(error: dict, errors: list[dict]) -> bool:
    """A 'wrong type' error of one member of a union (e.g. 'not a path') while another member
    of the same union got further: the deeper error is the one the user needs."""
    if error["type"] not in {"path_type", "model_type", "list_type", "dict_type", "model_attributes_type", "string_type"}:
        return False
    keys = [p for p in error["loc"] if not _member_tag(p)]
    return any(len(other["loc"]) > len(error["loc"]) and [p for p in other["loc"] if not _member_tag(p)][:len(keys)] == keys for other in errors)


def validation_to_input_error(exc: ValidationError, path: Path | str | None, model: type[BaseModel]) -> InputError:
    """One clear InputError from a pydantic ValidationError (the first problem; count of the rest)."""
    errors = exc.errors(include_url=False)
    # Prefer an error that is not an artefact of trying the other member of a union, and an
    # unknown key over the missing key it was probably meant to be.
    # sorted() over a copy: list.sort empties the list while it runs, so a key function that
    # looks at the other errors (as _union_artefact does) would see none.
    everything = list(errors)
    errors = sorted(everything, key=lambda e: (_union_artefact(e, everything), e["type"] != "extra_forbidden"))
    real = [e for e in errors if not _union_artefact(e, everything)] or errors[:1]
    first = errors[0]
    loc = tuple(first["loc"])
    raised = (first.get("ctx") or {}).get("error")
    if isinstance(raised, ProblemAt):
        loc += raised.key
    where = f"key {_loc(loc)}"
    more = f" ({len(real) - 1} more problem(s) after this one.)" if len(real) > 1 else ""
    kind = first["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        owner = _model_at(model, loc)
        allowed = [n for n, f in owner.model_fields.items() if not f.exclude] if owner else []
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        fix = f"{hint}allowed keys here: {', '.join(allowed)}." if allowed else "remove the key."
        return InputError(path, where, f"unknown key '{key}'.{more}", fix)
    if kind == "missing":
        return InputError(path, where, f"this required key is missing.{more}", f"add '{loc[-1]}' (see `run_scenario.py --schema`).")
    msg = first["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    given = first.get("input")
    if kind == "int_type" and isinstance(given, bool):  # strict fields: say why YAML's true is not 1
        msg = f"{str(given).lower()} is a yes/no value, not a whole number"
    shown = "" if isinstance(given, (dict, list)) or given is None or repr(given) in msg or str(given) in msg else f" (given: {given!r})"
    fix = raised.fix if isinstance(raised, ProblemAt) and raised.fix else _fix_for(kind, first.get("ctx") or {})
    return InputError(path, where, f"{msg}{shown}.{more}", fix)


def _fix_for(kind: str, ctx: dict) -> str:
    """The fix for a pydantic error type."""
    limit = next((f"{op} {ctx[k]}" for k, op in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")) if k in ctx), None)
    if kind == "less_than_equal" and ctx.get("le") == 1:
        return "give a fraction between 0 and 1 (e.g. 0.4, 40% or stop)."
    fixes = {
        "int_parsing": "write a whole number, e.g. 3.", "int_type": "write a whole number, e.g. 3.", "int_from_float": "write a whole number, e.g. 3.",
        "float_parsing": "write a number, e.g. 0.5.", "float_type": "write a number, e.g. 0.5.",
        "bool_parsing": "write true or false.", "bool_type": "write true or false.",
        "string_type": "write text (in quotes if it looks like a number or a date).",
        "list_type": "write a list: one '- item' per line, or [a, b].",
        "dict_type": "write a mapping of keys ('key: value' on indented lines, or {key: value}).",
        "model_type": "write a mapping of keys ('key: value' on indented lines, or {key: value}); see `run_scenario.py --schema`.",
        "model_attributes_type": "write a mapping of keys ('key: value' on indented lines, or {key: value}); see `run_scenario.py --schema`.",
        "literal_error": "use one of the values named.",
        "datetime_type": "write a date-time such as 2023-12-01T00:00.", "datetime_parsing": "write a date-time such as 2023-12-01T00:00.",
        "path_type": "write the path of the file, relative to this file's folder.",
        "finite_number": "write a finite number.",
    }
    if kind in fixes:
        return fixes[kind]
    if limit and kind in {"less_than_equal", "greater_than_equal", "less_than", "greater_than"}:
        return f"give a value {limit}."
    return "correct the value (see `run_scenario.py --schema` for the format)."


def _validate(model: type[BaseModel], data: Any, path: Path, base_dir: Path) -> Any:
    try:
        return model.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        raise validation_to_input_error(exc, path, model) from None


def load_policy(path: Path, key: str | None = None) -> Policy:
    """Load and validate a policy file (``key``: the scenario key naming it, for messages);
    its negotiated-cuts file is read and validated too."""
    policy = _validate(Policy, read_yaml(path, "policy", key), path, path.parent)
    return resolve_negotiated(policy.model_copy(update={"file": path}))


def load_agreements(path: Path, key: str | None = None) -> tuple[list[Agreement], tuple[str, ...]]:
    """The agreements of a negotiated-cuts file (CSV or YAML, :mod:`sim.config.agreement_file`),
    each validated, and where each stands in the file (``row 3``). The first bad row is an
    InputError naming the file, the row and the column."""
    out, where = [], []
    for at, row in read_agreement_rows(path, key):
        try:
            out.append(Agreement.model_validate(row))
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            raised = (error.get("ctx") or {}).get("error")
            column = ".".join(str(part) for part in error["loc"] if not _member_tag(part))
            label = f" ({row['enterprise_id']})" if row.get("enterprise_id") else ""
            place = f"{at}{label}" + (f", column {column}" if column and at.startswith("row") else f".{column}" if column else "")
            if error["type"] == "extra_forbidden":
                raise InputError(path, place, f"unknown key '{column}'.", f"allowed keys: {', '.join(AGREEMENT_COLUMNS)}.") from None
            if error["type"] == "missing":
                raise InputError(path, place, "this required value is missing.", f"give the {column} of every agreement.") from None
            msg = error["msg"].removeprefix("Value error, ")
            given = error.get("input")
            shown = "" if isinstance(given, (dict, list)) or given is None or str(given) in msg else f" (given: {given!r})"
            fix = raised.fix if isinstance(raised, ProblemAt) and raised.fix else _fix_for(error["type"], error.get("ctx") or {})
            if column == "from_level":
                fix = f"write one of {', '.join(LEVELS)} (or 黄色/橙色/红色); leave it empty for orange."
            raise InputError(path, place, f"{msg}{shown}.", fix) from None
        where.append(at)
    return out, tuple(where)


def resolve_negotiated(policy: Policy, file: Path | None = None, prefix: str = "") -> Policy:
    """``policy`` with its negotiated-cuts file (if any) read into agreements. Agreements
    written in the policy itself are named, for messages, as keys of ``file`` (default: the
    policy's own file) under ``prefix`` (``policy.`` for a policy inside a scenario)."""
    negotiated = policy.negotiated
    if negotiated is None or not isinstance(negotiated.agreements, Path):
        if negotiated is not None and not negotiated.rows:
            rows = tuple(f"key {prefix}negotiated.agreements[{i}]" for i in range(len(negotiated.agreements)))
            negotiated = negotiated.model_copy(update={"file": file or policy.file, "rows": rows})
            return policy.model_copy(update={"negotiated": negotiated})
        return policy
    path = negotiated.agreements
    agreements, rows = load_agreements(path, "negotiated.agreements")
    return policy.model_copy(update={"negotiated": negotiated.model_copy(update={"agreements": agreements, "file": path, "rows": rows})})


def load_other_sources(path: Path, key: str | None = None) -> OtherSources:
    """Load and validate an other-sources file (category totals)."""
    other = _validate(OtherSources, read_yaml(path, "other sources", key), path, path.parent)
    return other.model_copy(update={"file": path})


def _not_a_file(path: Path, fix: str) -> tuple[str, str]:
    """Why ``path`` (not a regular file) cannot be read, and the fix: /dev/zero or a pipe exists
    but is no file."""
    if not path.exists():
        return "does not exist.", fix
    if path.is_dir():
        return "is a folder, not a file.", fix
    return "is not a regular file (a device, pipe or socket), so it cannot be read.", "give a file saved on disk (save the data to a .csv or .xlsx file first)."


def _check_data_files(scenario: Scenario) -> None:
    """Every data file the scenario names exists (before any is read), named with its key."""
    fix = "check the path (relative paths start at the scenario file's folder)."
    inv = scenario.inventory
    if not Path(inv.enterprises).is_file():
        problem, fix = _not_a_file(Path(inv.enterprises), fix)
        raise InputError(inv.enterprises, "key inventory.enterprises", "the enterprise list " + problem, fix)
    if not Path(inv.emission_factors).is_dir():
        raise InputError(inv.emission_factors, "key inventory.emission_factors", "this is not a folder.", "point emission_factors at the folder holding industries.csv, factors.csv, units.csv and profiles.csv.")
    named = []
    if scenario.atmosphere is not None:
        named.append(("atmosphere.meteorology", scenario.atmosphere.meteorology))
        named += [(f"atmosphere.cities.{c}.meteorology", a.meteorology) for c, a in scenario.atmosphere.cities.items()]
    named.append(("warnings.forecast.file", scenario.warnings.forecast.file))
    if scenario.evaluation is not None:
        named += scenario.evaluation.files()
    for key, file in named:
        if file is not None and not Path(file).is_file():
            problem, fix = _not_a_file(Path(file), fix)
            raise InputError(file, f"key {key}", "the file " + problem, fix)


def load_scenario(path: str | Path) -> Scenario:
    """Load a scenario YAML file into a frozen :class:`Scenario`.

    Relative paths resolve against the scenario file's folder; the policy and other-sources
    files are read and validated here too, so the returned object holds everything.
    """
    path = Path(path)
    raw = read_yaml(path, "scenario")
    scenario = _validate(Scenario, raw, path, path.parent)
    changes: dict[str, Any] = {"source_file": path}
    if isinstance(scenario.policy, Path):
        changes["policy"] = load_policy(scenario.policy, "policy")
    else:
        changes["policy"] = resolve_negotiated(scenario.policy, path, "policy.")
    other = scenario.inventory.other_sources
    if isinstance(other, list):
        changes["inventory"] = scenario.inventory.model_copy(
            update={"other_sources": [load_other_sources(o, f"inventory.other_sources[{i}]") if isinstance(o, Path) else o for i, o in enumerate(other)]}
        )
    elif isinstance(other, Path):
        changes["inventory"] = scenario.inventory.model_copy(update={"other_sources": load_other_sources(other, "inventory.other_sources")})
    _check_data_files(scenario)
    return scenario.model_copy(update=changes)


def input_files(scenario: Scenario) -> list[Path]:
    """The data files a scenario reads besides its YAML (enterprise list, meteorology, response
    surface, forecasts, emission factors)."""
    files = [Path(scenario.inventory.enterprises)]
    if scenario.atmosphere is not None:
        if scenario.atmosphere.meteorology is not None:
            files.append(Path(scenario.atmosphere.meteorology))
        files.extend(Path(c.meteorology) for _, c in sorted(scenario.atmosphere.cities.items()))
        if scenario.atmosphere.response_surface is not None:
            files.append(Path(scenario.atmosphere.response_surface.coefficients))
    if scenario.warnings.forecast.file is not None:
        files.append(Path(scenario.warnings.forecast.file))
    if scenario.evaluation is not None:
        files.extend(path for _, path in scenario.evaluation.files())
    factors = Path(scenario.inventory.emission_factors)
    files.extend(sorted(factors.glob("*.csv")) if factors.is_dir() else [factors])
    return files


def scenario_sha256(scenario: Scenario) -> str:
    """SHA-256 of the validated scenario (policy and other sources included, file locations
    left out) and the bytes of every data file it reads: the same inputs give the same hash
    wherever the project is checked out."""
    digest = hashlib.sha256()
    # without a response surface its empty key is left out, so older scenarios keep their hash
    surface = {"response_surface": {"coefficients"}} if scenario.atmosphere is not None and scenario.atmosphere.response_surface is not None else {"response_surface": True}
    content = scenario.model_dump(
        mode="json",
        exclude={"output": {"dir", "format"}, "inventory": {"enterprises", "emission_factors"},
                 "atmosphere": {"meteorology": True, "cities": {"__all__": {"meteorology"}}, **surface},
                 "warnings": {"forecast": {"file"}},
                 "evaluation": {"observed_pm25", "warnings_issued", "forecasts", "power_use", "cems"}},
    )
    if content["policy"].get("negotiated", 0) is None:  # no negotiated cuts: the hash of scenarios written before them
        del content["policy"]["negotiated"]
    if content.get("evaluation") is None:  # a scenario without the block hashes as it did before the block existed
        content.pop("evaluation", None)
    atmosphere = content.get("atmosphere") or {}
    if atmosphere.get("draw_parameters") is False:  # keys added later, at their defaults: the hash of scenarios written before them
        del atmosphere["draw_parameters"]
    for city in atmosphere.get("cities", {}).values():
        for key in ("lat", "lon", "area_km2"):
            if city.get(key, 0) is None:
                del city[key]
    digest.update(json.dumps(content, sort_keys=True, ensure_ascii=False).encode())
    for f in input_files(scenario):
        if f.is_file():
            digest.update(f.name.encode())
            digest.update(f.read_bytes())
    return digest.hexdigest()
