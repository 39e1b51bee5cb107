"""The warning centre against hand-made forecasts (rule sets as data, lead, lift, upgrade,
regional warnings) and the engine following it."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.simulation import WarningCentre
from sim.errors import InputError
from sim.rules.warnings import WarningDecider, builtin_rule_sets, forecast_spells, load_rule_set

RULES = builtin_rule_sets()


def decide(rule_set, days_aqi: list[float], now_h=10, day0_h=0, lead_h=24, lift_h=36, decider=None):
    d = decider or WarningDecider(rule_set, lead_h, lift_h)
    d.step(now_h, day0_h, np.array(days_aqi, dtype=float))
    return d


def test_three_rule_sets_ship_as_data():
    assert set(RULES) == {"mee_2017", "mee_2019", "mee_2024"}


@pytest.mark.parametrize(
    "days, level",
    [
        ([100, 210, 220, 100, 100, 100, 100], 1),  # 2 days > 200: yellow
        ([100, 210, 220, 230, 100, 100, 100], 2),  # 3 days: orange
        ([100, 210, 310, 320, 230, 100, 100], 3),  # 4 days > 200 with two > 300: red
        ([100, 210, 220, 230, 240, 100, 100], 2),  # 4 days but none > 300: orange
        ([100, 500, 100, 100, 100, 100, 100], 3),  # AQI reaches 500: red
        ([100, 210, 100, 100, 100, 100, 100], 0),  # a single day: no warning under mee_2019
    ],
)
def test_mee_2019_levels(days, level):
    spells = forecast_spells(RULES["mee_2019"], np.array(days, float))
    assert max((s.level for s in spells), default=0) == level


def test_mee_2024_is_stricter():
    days = np.array([100, 160, 170, 100, 100, 100, 100], float)  # 48 h above 150: yellow in 2024 only
    assert forecast_spells(RULES["mee_2019"], days) == []
    assert [s.level for s in forecast_spells(RULES["mee_2024"], days)] == [1]


def test_issue_respects_lead_time_and_spell():
    d = decide(RULES["mee_2019"], [100, 210, 220, 100, 100, 100, 100], now_h=10, day0_h=0, lead_h=24)
    [w] = d.records
    assert (w.level, w.issued_h, w.start_h, w.end_h) == (1, 10, 34, 72)  # 24 h after issue, not at midnight
    early = decide(RULES["mee_2019"], [100, 100, 210, 220, 100, 100, 100], now_h=10, day0_h=0, lead_h=24)
    [w] = early.records
    assert w.start_h == 48  # far enough ahead: from the first day of the episode
    assert "AQI > 200 for 2 day(s)" in w.reason


def test_upgrade_mid_episode_waits_for_the_lead():
    d = decide(RULES["mee_2019"], [100, 210, 220, 100, 100, 100, 100], now_h=10, day0_h=0)
    # next day: the episode is now forecast longer and with two severe days
    decide(RULES["mee_2019"], [210, 310, 320, 230, 100, 100, 100], now_h=34, day0_h=24, decider=d)
    first, second = d.records
    assert (first.level, first.start_h, first.end_h) == (1, 34, 58)
    assert (second.level, second.start_h, second.end_h) == (3, 58, 120)
    assert second.reason.startswith("upgraded")


def test_lift_only_after_forecast_clear_for_lift_period():
    d = decide(RULES["mee_2019"], [100, 210, 220, 230, 240, 250, 100], now_h=10, day0_h=0)
    assert (d.records[0].level, d.records[0].end_h) == (2, 144)
    # in force on day 2; the forecast clears tomorrow, but today is still above the start condition
    decide(RULES["mee_2019"], [230, 100, 100, 100, 100, 100, 100], now_h=58, day0_h=48, decider=d, lift_h=36)
    assert d.records[0].end_h == 144  # not lifted: the next 36 h are not all clear
    decide(RULES["mee_2019"], [100, 100, 100, 100, 100, 100, 100], now_h=82, day0_h=72, decider=d, lift_h=36)
    assert d.records[0].end_h == 82 and "lifted" in d.records[0].reason
    d2 = decide(RULES["mee_2019"], [100, 210, 220, 230, 240, 250, 100], now_h=10, day0_h=0)
    # forecast clear from today for >= 36 h: lifted at once
    decide(RULES["mee_2019"], [150, 100, 100, 100, 100, 100, 100], now_h=58, day0_h=48, decider=d2, lift_h=36)
    assert d2.records[0].end_h == 58 and "lifted" in d2.records[0].reason


def test_back_to_back_episodes_merge():
    d = decide(RULES["mee_2019"], [100, 210, 220, 100, 230, 240, 100], now_h=10, day0_h=0, lift_h=36)
    assert len(d.records) == 1
    assert d.records[0].end_h == 144  # the one-day gap is shorter than the lift period


def test_local_rule_set_file(tmp_path):
    path = tmp_path / "local.yaml"
    path.write_text("name: local\nstart_above: 150\nlevels:\n  yellow: {any: [{aqi_above: 150, days: 1}]}\n", encoding="utf-8")
    rules = load_rule_set("local.yaml", tmp_path)
    assert [s.level for s in forecast_spells(rules, np.array([160.0, 100.0]))] == [1]
    bad = tmp_path / "bad.yaml"
    bad.write_text("start_above: 150\nlevels:\n  purple: {any: [{aqi_above: 150, days: 1}]}\n", encoding="utf-8")
    with pytest.raises(InputError, match="unknown warning level"):
        load_rule_set("bad.yaml", tmp_path)
    with pytest.raises(InputError, match="neither a built-in rule set"):
        load_rule_set("mee_2031", tmp_path)


def _engine_inputs(hours=96, schedule=()):
    from sim.engine.simulation import EngineInputs

    n = 2
    return EngineInputs(
        hours=hours, mean_rate_kg_h=np.array([[10.0, 0, 0, 0, 0, 0], [0, 10.0, 0, 0, 0, 0]]),
        profile_id=np.zeros(n, dtype=int), profile_weights=np.ones((1, hours)),
        level_reduction=np.array([[0, 0.3, 0.4, 0.5], [0, 0.3, 0.4, 0.5]]),
        compliance_probability=np.ones(n), delay_h=np.zeros(n, dtype=int), value_wan_yuan_d=np.ones(n),
        enterprise_code=np.arange(n), is_production=np.ones(n, bool), schedule=tuple(schedule), calendars=(),
        other_rate_kg_h=np.zeros((0, 6)), other_weights=np.zeros((0, hours)), other_reduction=np.zeros((0, 4, 6)),
    )


def test_engine_follows_centre_and_regional_warning_forces_level():
    from sim.engine.simulation import ScheduledLevel, run_engine

    forecasts = np.array([[100, 210, 220, 100, 100], [210, 220, 100, 100, 100], [220, 100, 100, 100, 100], [100] * 5], float)
    from sim.physics.aqi import iaqi_pm25  # noqa: F401  (forecasts here are AQI already)
    centre = WarningCentre(np.array([10, 34, 58, 82]), np.array([0, 24, 48, 72]), forecasts, RULES["mee_2019"], 24, 36)
    regional = ScheduledLevel(2, 60, 66, "regional (provincial) warning")
    res = run_engine(_engine_inputs(schedule=[regional]), np.random.default_rng(0), centre)
    level = res.level_in_force
    assert (level[:34] == 0).all()
    assert (level[34:60] == 1).all()  # yellow from 24 h after the 10:00 consultation of day 0
    assert (level[60:66] == 2).all()  # the provincial orange warning wins while it lasts
    assert (level[66:72] == 1).all()
    assert (level[72:] == 0).all()
    np.testing.assert_allclose(res.hourly_kg_h[30, 0], 10.0)
    np.testing.assert_allclose(res.hourly_kg_h[40, 0], 7.0)
    np.testing.assert_allclose(res.hourly_kg_h[62, 0], 6.0)


def test_spell_memo_gives_the_spells_of_every_forecast():
    """Forecasts that agree on every comparison of the rule set share their spells; each row
    still gets exactly what forecast_spells gives it (random AQI near the thresholds, NaN days)."""
    from sim.rules.warnings import SpellMemo

    rng = np.random.default_rng(3)
    for rules in RULES.values():
        memo = SpellMemo(rules)
        thresholds = np.array(sorted({rules.start_above, *memo.thresholds}))
        aqi = rng.choice(np.r_[thresholds - 1, thresholds, thresholds + 1, 0.0, 500.0, np.nan], size=(400, 7))
        rows = memo.rows(aqi)
        assert [forecast_spells(rules, row) for row in aqi] == rows
        assert len(memo.memo) < len(aqi)  # patterns are shared
