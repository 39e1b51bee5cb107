"""The engine works on response keys: lines that respond alike are one key.

Checks that the grouping is exact (lines share a key only when every attribute that moves
their factor is the same), that collapsing changes no figure (a list with every line split in
two gives the same totals), that lines moved by compliance draws and inspections keep their
own totals, and that enterprise classes count enterprises as one row per enterprise would.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sim.engine.simulation import EngineInputs, Inspections, ScheduledLevel, baseline_run, enterprise_classes, response_keys, run_engine
from sim.rules.policy import CalendarWindow

HOURS = 96
RTOL = 1e-12


def _inputs(n: int = 40, seed: int = 3, compliance: float = 1.0, inspections: Inspections | None = None) -> EngineInputs:
    """A two-city list of ``n`` lines with a few distinct delays, profiles and cuts."""
    rng = np.random.default_rng(seed)
    cuts = np.array([[0, 0.3, 0.4, 0.5], [0, 0.2, 0.5, 1.0], [0, 0, 0, 0], [0, 1.0, 1.0, 1.0]])
    profile_weights = np.vstack([np.ones(HOURS), np.tile(np.r_[np.zeros(8), np.full(16, 1.5)], HOURS // 24)])
    city = rng.integers(0, 2, n)
    mask = rng.random(n) < 0.3
    return EngineInputs(
        hours=HOURS,
        mean_rate_kg_h=rng.random((n, 6)) * 10.0,
        profile_id=rng.integers(0, 2, n),
        profile_weights=profile_weights,
        level_reduction=cuts[rng.integers(0, 4, n)],
        compliance_probability=np.full(n, compliance),
        delay_h=rng.choice([0, 4, 8], n),
        value_wan_yuan_d=rng.random(n) * 5.0,
        enterprise_code=rng.integers(0, n // 3, n),
        is_production=rng.random(n) < 0.9,
        schedule=(ScheduledLevel(1, 10, 30), ScheduledLevel(3, 20, 26, cities=(1,)), ScheduledLevel(2, 50, 80, cities=(0,))),
        calendars=(CalendarWindow("kilns", 40, 70, mask, 1.0),),
        other_rate_kg_h=np.zeros((0, 6)),
        other_weights=np.zeros((0, HOURS)),
        other_reduction=np.zeros((0, 4, 6)),
        inspections=inspections,
        city_id=city,
        other_city_id=np.zeros(0, dtype=np.int64),
        n_cities=2,
    )


def _split(inp: EngineInputs) -> EngineInputs:
    """Every line split into two lines of half its rate and value (same enterprise)."""
    twice = lambda a: np.repeat(np.asarray(a), 2, axis=0)  # noqa: E731
    return replace(
        inp,
        mean_rate_kg_h=twice(inp.mean_rate_kg_h) / 2.0, profile_id=twice(inp.profile_id), level_reduction=twice(inp.level_reduction),
        compliance_probability=twice(inp.compliance_probability), delay_h=twice(inp.delay_h), value_wan_yuan_d=twice(inp.value_wan_yuan_d) / 2.0,
        enterprise_code=twice(inp.enterprise_code), is_production=twice(inp.is_production), city_id=twice(inp.city_id),
        calendars=tuple(replace(w, mask=twice(w.mask)) for w in inp.calendars),
    )


def test_lines_share_a_key_only_when_every_attribute_agrees():
    inp = _inputs()
    keys = response_keys(inp)
    k = keys.line_key
    for attribute in (inp.city_id, inp.delay_h, inp.profile_id, inp.is_production, inp.calendars[0].mask):
        assert all(len(set(np.asarray(attribute)[k == j])) == 1 for j in range(keys.size))
    for j in range(keys.size):
        assert (inp.level_reduction[k == j] == keys.level_reduction[j]).all()
    # a line whose cut differs from its key-mates' in one level only leaves their key
    shared = np.flatnonzero(np.bincount(k) >= 2)
    assert shared.size  # the fixture has keys of several lines
    line, *mates = np.flatnonzero(k == shared[0])
    bumped = inp.level_reduction.copy()
    bumped[line, 2] += 0.01
    other = response_keys(replace(inp, level_reduction=bumped)).line_key
    assert (other[mates] != other[line]).all()
    assert (other[mates] == other[mates[0]]).all()


def test_duplicated_lines_collapse_into_the_same_keys():
    inp = _inputs()
    assert response_keys(_split(inp)).size == response_keys(inp).size
    assert response_keys(inp).size < inp.mean_rate_kg_h.shape[0]


@pytest.mark.parametrize("compliance", [1.0, 0.0])
def test_splitting_every_line_changes_no_figure(compliance):
    inp = _inputs(compliance=compliance)
    one, two = run_engine(inp), run_engine(_split(inp))
    np.testing.assert_allclose(two.hourly_kg_h, one.hourly_kg_h, rtol=RTOL)
    np.testing.assert_allclose(two.hourly_by_city_kg_h, one.hourly_by_city_kg_h, rtol=RTOL)
    np.testing.assert_allclose(two.line_total_kg[::2] + two.line_total_kg[1::2], one.line_total_kg, rtol=RTOL)
    assert two.production_loss_wan_yuan == pytest.approx(one.production_loss_wan_yuan, rel=RTOL)
    # enterprises are the same, each with twice the lines: the same enterprise-hours
    assert two.enterprise_hours_limited == one.enterprise_hours_limited
    assert two.enterprise_hours_stopped == one.enterprise_hours_stopped
    np.testing.assert_array_equal(two.lines_limited, 2 * one.lines_limited)


def test_lines_moved_by_draws_and_inspections_keep_their_own_totals():
    """With compliance drawn per line, each line's total lies between its totals when it
    always complies and when it never does, and the lines add up to the hourly totals."""
    spec = Inspections(per_day=6, catch_probability=0.8, hour_of_day=12)
    drawn = run_engine(_inputs(compliance=0.5, inspections=spec), np.random.default_rng(11))
    always = run_engine(_inputs(compliance=1.0))
    never = run_engine(_inputs(compliance=0.0))
    low = np.minimum(always.line_total_kg, never.line_total_kg)
    high = np.maximum(always.line_total_kg, never.line_total_kg)
    assert (drawn.line_total_kg >= low * (1 - RTOL) - 1e-12).all()
    assert (drawn.line_total_kg <= high * (1 + RTOL) + 1e-12).all()
    assert drawn.caught > 0  # the inspections did move lines
    np.testing.assert_allclose(drawn.line_total_kg.sum(axis=0), drawn.hourly_kg_h.sum(axis=0), rtol=1e-9)
    # some lines complied and some did not: the run sits strictly between the two
    assert never.hourly_kg_h.sum() > drawn.hourly_kg_h.sum() > always.hourly_kg_h.sum()


def test_enterprise_classes_count_as_one_row_per_enterprise():
    """Classes (enterprises with the same pairs, kept once) give the same counts as one class
    per enterprise (what a run with compliance below 1 uses)."""
    inp = _inputs(n=300, seed=8)
    keys = response_keys(inp)
    production, enterprise = np.asarray(inp.is_production), np.asarray(inp.enterprise_code).astype(np.int64)
    merged = enterprise_classes(production, enterprise, keys.line_key, may_move=False)
    each = enterprise_classes(production, enterprise, keys.line_key, may_move=True)
    assert merged.class_size.sum() == each.class_size.sum() == np.unique(enterprise[production]).size
    assert merged.class_size.size < each.class_size.size
    one = run_engine(inp)
    unmerged = replace(inp)
    unmerged.__dict__["enterprise_classes"] = each
    two = run_engine(unmerged)
    assert (one.enterprise_hours_limited, one.enterprise_hours_stopped) == (two.enterprise_hours_limited, two.enterprise_hours_stopped)
    assert one.enterprise_hours_limited > 0 and one.enterprise_hours_stopped > 0


def test_baseline_shares_the_scenario_grouping():
    inp = _inputs()
    keys = inp.keys
    base = baseline_run(inp)
    assert inp.keys is keys
    rates = inp.mean_rate_kg_h
    expected = rates * inp.profile_weights[inp.profile_id].sum(axis=1)[:, None]
    np.testing.assert_allclose(base.line_total_kg, expected, rtol=RTOL)


def test_a_long_schedule_gives_the_level_of_its_highest_warning():
    """Hundreds of overlapping warnings: the level in force is the highest one covering each
    hour (checked hour by hour against the records)."""
    rng = np.random.default_rng(5)
    starts = rng.integers(0, HOURS - 1, 300)
    schedule = tuple(ScheduledLevel(int(rng.integers(1, 4)), int(s), int(min(s + rng.integers(1, 12), HOURS))) for s in starts)
    res = run_engine(replace(_inputs(), schedule=schedule, calendars=()))
    expected = np.zeros(HOURS, dtype=int)
    for w in schedule:
        expected[w.start_h:w.end_h] = np.maximum(expected[w.start_h:w.end_h], w.level)
    np.testing.assert_array_equal(res.level_in_force, expected)
