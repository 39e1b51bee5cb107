"""After-action evaluation (--evaluate): hand-made meter files give the expected verdicts,
realised = planned when every line complies exactly, the counterfactual is the observation plus
the modelled effect of the realised cuts, and forecast and warning skill hand-computed."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import FIXTURES, ROOT, TINY_POLICY
from sim.config.scenario import load_scenario
from sim.errors import InputError
from sim.evaluation import evaluate
from sim.inputs.evaluation import load_power_use
from sim.physics.aqi import iaqi_pm25
from sim.physics.skill import forecast_skill, warning_timeliness

HEADER = ("enterprise_id,enterprise_name,city,district,lat,lon,industry,grade,line_id,process,activity,activity_unit,so2_kg_h,nox_kg_h,"
          "pm10_kg_h,pm25_kg_h,voc_kg_h,nh3_kg_h,hours_per_day,output_value_wan_yuan_per_day,livelihood,ultra_low,whitelist,restricted,"
          "bulk_transport,truck_trips_per_day")
FIRMS = ("S1", "S2", "S3", "S4", "S5", "S6", "D1", "X1")  # D1: metered as a whole, daily; X1: grade A, exempt
NORMAL, TREAT = 100.0, 20.0  # kWh/h
WARNING = ("2023-12-05T00:00", "2023-12-06T00:00")


def _list() -> str:
    rows = [HEADER]
    for firm in FIRMS:
        grade = "A" if firm == "X1" else "C"
        rows.append(f"{firm},{firm}钢铁,tiny,d1,32.1,119.5,steel,{grade},L1,sinter,,,20,10,2,1,0,0,24,10,0,0,0,0,0,")
    return "\n".join(rows) + "\n"


def _meters(behaviour: dict[str, str]) -> pd.DataFrame:
    """Cumulative readings: NORMAL kWh/h before the warning; in it, as each firm's behaviour says."""
    hours = pd.date_range("2023-11-27T00:00", "2023-12-07T00:00", freq="h")
    warned = (hours >= WARNING[0]) & (hours < WARNING[1])
    frames = []
    for firm in FIRMS:
        how = behaviour.get(firm, "exact")
        cut = 0.0 if firm == "X1" else 0.4
        load = np.where(warned, NORMAL * {"exact": 1 - cut, "none": 1.0, "half": 1 - cut / 2, "up": 1.2, "treatment_off": 1 - cut, "gap": 1 - cut, "reset": 1 - cut}[how], NORMAL)
        treat = np.where(warned & (how == "treatment_off"), 2.0, TREAT)
        for meter, use in (("production", load), ("treatment", treat)):
            reading = np.r_[0.0, np.cumsum(use[:-1])] + 5000.0
            frame = pd.DataFrame({"time": hours.strftime("%Y-%m-%dT%H:%M"), "enterprise_id": firm, "line_id": "L1", "meter": meter, "kwh": reading})
            if firm == "D1":
                frame = frame[hours.hour == 0].assign(line_id="")
            if meter == "production" and how == "gap":
                frame = frame[~frame.time.between("2023-12-05T02:00", "2023-12-05T20:00")]
            if meter == "production" and how == "reset":
                after = frame.time >= "2023-12-05T12:00"
                frame.loc[after, "kwh"] -= frame.loc[after, "kwh"].iloc[0]
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


@pytest.fixture
def episode(tmp_path):
    """Write a tiny evaluated episode with the given behaviours; return its scenario path."""

    def write(behaviour: dict[str, str], cems: str | None = None) -> object:
        (tmp_path / "list.csv").write_text(_list(), encoding="utf-8")
        (tmp_path / "policy.yaml").write_text(yaml.safe_dump(TINY_POLICY), encoding="utf-8")
        _meters(behaviour).to_csv(tmp_path / "power.csv", index=False)
        times = pd.date_range("2023-12-04", "2023-12-07", freq="h", inclusive="left")
        pd.DataFrame({"time": times.strftime("%Y-%m-%dT%H:%M"), "pm25_ug_m3": 100.0}).to_csv(tmp_path / "obs.csv", index=False)
        (tmp_path / "issued.csv").write_text(f"level,issued_at,start,end\norange,2023-12-04T10:00,{WARNING[0]},{WARNING[1]}\n", encoding="utf-8")
        (tmp_path / "forecasts.csv").write_text("issue_date,target_date,pm25_ug_m3\n2023-12-04,2023-12-05,160\n2023-12-04,2023-12-06,90\n", encoding="utf-8")
        scenario = {
            "name": "tiny evaluated", "period": {"start": "2023-12-04T00:00", "end": "2023-12-07T00:00"},
            "inventory": {"enterprises": "list.csv", "emission_factors": str(FIXTURES / "factors")}, "policy": "policy.yaml",
            "warnings": {"schedule": [{"level": "orange", "start": WARNING[0], "end": WARNING[1]}]},
            "evaluation": {"observed_pm25": "obs.csv", "warnings_issued": "issued.csv", "forecasts": "forecasts.csv", "power_use": "power.csv", "baseline_days": 7},
            "output": {"dir": "out"},
        }
        if cems is not None:
            (tmp_path / "cems.csv").write_text(cems, encoding="utf-8")
            scenario["evaluation"]["cems"] = "cems.csv"
        path = tmp_path / "scenario.yaml"
        path.write_text(yaml.safe_dump(scenario, sort_keys=False), encoding="utf-8")
        return path

    return write


def test_hand_made_meters_give_the_expected_verdicts(episode):
    ev = evaluate(load_scenario(episode({"S2": "none", "S3": "treatment_off", "S4": "gap", "S5": "reset", "S6": "half", "X1": "up"})))
    table = ev.compliance.set_index("enterprise_id")
    verdict = table.verdict.to_dict()
    assert verdict == {"S1": "complied", "S2": "not complied", "S3": "not complied", "S4": "no data", "S5": "complied",
                       "S6": "partly", "D1": "complied", "X1": "complied"}
    assert table.loc["S1", "asked_cut"] == pytest.approx(0.4) and table.loc["S1", "observed_cut"] == pytest.approx(0.4)
    assert table.loc["S2", "observed_cut"] == pytest.approx(0.0)
    assert table.loc["S3", "treatment_violation"] and table.loc["S3", "treatment_off_hours"] == 24
    assert table.loc["S3", "observed_cut"] == pytest.approx(0.4)  # cut as asked, yet not complied: treatment off
    assert table.loc["S4", "data_share"] == pytest.approx(4 / 24)  # hours 00, 21, 22, 23 known
    assert table.loc["S5", "hours_with_data"] == 23  # the hour across the reset is unknown
    assert table.loc["S6", "observed_cut"] == pytest.approx(0.2)
    assert table.loc["D1", "line_id"] == "" and table.loc["D1", "observed_cut"] == pytest.approx(0.4)
    assert table.loc["X1", "reason"] == "no cut asked" and table.loc["X1", "load_up"]
    assert any("1 meter reset" in n and "S5" in n for n in ev.notes)
    assert any("1 gap(s)" in n and "S4" in n for n in ev.notes)
    review = ev.review[ev.review.kind == "enterprise"].set_index("enterprise_id").action
    assert set(review.index) == {"S2", "S3", "S4", "S6", "X1"}
    assert "treatment" in review["S3"] and "no meter data" in review["S4"]
    # 复工指数: the warning day at 60 % of the pre-episode daily use for a line that cut 40 %
    work = ev.work_index[(ev.work_index.enterprise_id == "S1")].set_index("date").work_index
    assert work[pd.Timestamp("2023-12-05")] == pytest.approx(0.6) and work[pd.Timestamp("2023-12-04")] == pytest.approx(1.0)
    # every warning hour of every unit is in the hourly table, with the asked cut
    assert len(ev.compliance_hourly) == 24 * len(FIRMS)
    assert set(ev.compliance_hourly[ev.compliance_hourly.enterprise_id == "S1"].asked_cut) == {0.4}


def test_realised_equals_planned_when_every_line_complies_exactly(episode):
    ev = evaluate(load_scenario(episode({})))
    assert set(ev.compliance.verdict) == {"complied"}
    planned, realised = ev.metrics["list_ratio_planned"]["orange"], ev.metrics["list_ratio_realised"]["orange"]
    for p in ("so2", "nox", "pm"):
        assert realised[p] == pytest.approx(planned[p], abs=1e-12)
    cuts = ev.metrics["cuts_during_warnings_t"]
    for p in ("so2", "nox", "pm10"):
        assert cuts["realised"][p] == pytest.approx(cuts["planned"][p], rel=1e-12)
    # 7 lines cut 40 % for 24 h: so2 20 kg/h each
    assert cuts["planned"]["so2"] == pytest.approx(7 * 20 * 0.4 * 24 / 1000)


def test_a_line_that_did_not_cut_lowers_the_realised_ratio(episode):
    ev = evaluate(load_scenario(episode({"S2": "none"})))
    planned, realised = ev.metrics["list_ratio_planned"]["orange"]["so2"], ev.metrics["list_ratio_realised"]["orange"]["so2"]
    assert realised == pytest.approx(planned - 0.4 / 8)  # one of eight equal lines kept its 40 %


def test_cems_rates_replace_the_metered_ones(episode):
    hours = pd.date_range(WARNING[0], WARNING[1], freq="h", inclusive="left").strftime("%Y-%m-%dT%H:%M")
    cems = "time,enterprise_id,line_id,so2_kg_h,nox_kg_h,pm_kg_h\n" + "".join(f"{t},S1,L1,0,,\n" for t in hours)
    ev = evaluate(load_scenario(episode({}, cems)))
    cuts = ev.metrics["cuts_during_warnings_t"]
    # S1 emitted no SO2 at all in the warning (CEMS), not the 60 % its meter shows: 20 kg/h × 0.6 × 24 h more cut
    assert cuts["realised"]["so2"] == pytest.approx(cuts["planned"]["so2"] + 20 * 0.6 * 24 / 1000)
    assert cuts["realised"]["nox"] == pytest.approx(cuts["planned"]["nox"])  # empty cells: the meters stand
    assert ev.metrics["cems_values"] == 24


def test_meter_reader_names_resets_and_gaps(tmp_path):
    lines = pd.DataFrame({"enterprise_id": ["E1"], "line_id": ["L1"]})
    (tmp_path / "p.csv").write_text("time,enterprise_id,line_id,meter,kwh\n2023-12-01T00:00,E1,L1,production,10\n2023-12-01T01:00,E1,L1,production,15\n"
                                    "2023-12-01T02:00,E1,L1,production,3\n2023-12-01T05:00,E1,L1,production,9\n2023-12-01T06:00,E1,L1,production,11\n", encoding="utf-8")
    times = pd.date_range("2023-12-01", periods=8, freq="h")
    data = load_power_use(tmp_path / "p.csv", times, lines)
    np.testing.assert_array_equal(data.kwh_h[0], [5, np.nan, np.nan, np.nan, np.nan, 2, np.nan, np.nan])
    assert data.meters.resets.tolist() == [1] and data.meters.gap_hours.tolist() == [2]
    assert "row 4" in data.notes[0] and "row 5" in data.notes[1]


def test_bad_meter_row_is_one_error(tmp_path):
    lines = pd.DataFrame({"enterprise_id": ["E1"], "line_id": ["L1"]})
    (tmp_path / "p.csv").write_text("time,enterprise_id,line_id,meter,kwh\n2023-12-01T00:00,E1,L1,production,10\n2023-12-01T01:00,E1,L2,production,15\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 3, column line_id: enterprise 'E1' has no line 'L2'"):
        load_power_use(tmp_path / "p.csv", pd.date_range("2023-12-01", periods=2, freq="h"), lines)


# --------------------------------------------------------------------------- skill, hand-computed


def _days(values):
    times = pd.date_range("2023-12-01", periods=24 * len(values), freq="h")
    return times, np.repeat(values, 24).astype(float)


def test_forecast_skill_hand_computed():
    from sim.physics.aqi import daily_aqi

    times, hourly = _days([40, 160, 100])  # AQI 57 (good), 210 (heavy), 132 (light)
    observed = daily_aqi(hourly, times)
    assert observed.tolist() == [57, 210, 132]
    forecasts = pd.DataFrame({"target_date": pd.to_datetime(["2023-12-01", "2023-12-02", "2023-12-02", "2023-12-03"]), "lead_day": [0, 0, 1, 1],
                              "pm25_ug_m3": np.nan, "aqi": [60.0, 190.0, 220.0, 150.0]})
    skill = forecast_skill(forecasts, observed).set_index("lead_day")
    assert skill.loc[0, "days"] == 2 and skill.loc[0, "mean_error_aqi"] == pytest.approx((3 - 20) / 2)
    assert skill.loc[0, "mean_abs_error_aqi"] == pytest.approx(11.5) and skill.loc[0, "rmse_aqi"] == pytest.approx(np.sqrt((9 + 400) / 2))
    assert skill.loc[0, "level_hit_rate"] == 0.5 and not skill.loc[0, "meets_target"]
    assert skill.loc[1, "mean_error_aqi"] == pytest.approx(14.0) and skill.loc[1, "level_hit_rate"] == 1.0 and skill.loc[1, "meets_target"]
    assert iaqi_pm25(40.0) == 57


def test_warning_timeliness_hand_computed():
    days = pd.date_range("2023-12-01", periods=5, freq="D")
    observed = pd.Series([100.0, 210.0, 250.0, 90.0, 230.0], index=days)
    issued = pd.DataFrame({"level": ["orange", "yellow"], "issued_at": pd.to_datetime(["2023-12-01T10:00", "2023-12-03T20:00"]),
                           "start": pd.to_datetime(["2023-12-02T00:00", "2023-12-04T00:00"]), "end": pd.to_datetime(["2023-12-03T12:00", "2023-12-05T00:00"])})
    out = warning_timeliness(issued, observed)
    assert out["heavy_days"] == ["2023-12-02", "2023-12-03", "2023-12-05"]
    assert out["heavy_days_covered"] == ["2023-12-02", "2023-12-03"]  # 12 h of 12-03 count
    assert out["missed_heavy_days"] == ["2023-12-05"]
    assert out["false_alarm_days"] == ["2023-12-04"]
    assert out["warnings"][0]["lead_h_issue"] == 14.0 and out["warnings"][0]["lead_h_start"] == 0.0
    assert out["warnings"][1]["first_heavy_day"] == "2023-12-05" and out["warnings"][1]["lead_h_issue"] == 28.0
    # a warned day heavy only without the measures is no false alarm
    without = pd.Series([100.0, 210.0, 250.0, 205.0, 230.0], index=days)
    assert warning_timeliness(issued, observed, without)["false_alarm_days"] == []


# --------------------------------------------------------------------------- the bundled demo and the PM2.5 effect


@pytest.fixture(scope="module")
def demo():
    return evaluate(load_scenario(ROOT / "scenarios" / "demo_city_evaluation.yaml"))


def test_counterfactual_is_observation_plus_the_modelled_effect(demo):
    from sim.physics.atmosphere import calibration_scale
    from sim.physics.effect import modelled_effect
    from sim.physics.projection import local_components
    from sim.inputs.meteorology import load_meteorology

    pm = demo.pm25
    seen = pm.observed.notna()
    np.testing.assert_allclose((pm.counterfactual - pm.observed)[seen], pm.effect[seen], rtol=0, atol=1e-9)
    assert pm.counterfactual[~seen].isna().all()  # no observation, no counterfactual
    # the effect is the calibrated difference of the model run with and without the cuts
    scenario = demo.scenario
    times = pd.DatetimeIndex(pm.time)
    met = load_meteorology(scenario.atmosphere.meteorology).slice(times[0], times[-1] + pd.Timedelta(hours=1))
    rng = np.random.default_rng(1)
    without = {p: 50.0 + rng.random(len(times)) for p in ("so2", "nox", "pm25", "voc", "nh3")}
    realised = {p: (0.8 * v)[None] for p, v in without.items()}
    obs = pm.observed.to_numpy()
    effect, c = modelled_effect(scenario.atmosphere, met, obs, realised, without)
    local = local_components([scenario.atmosphere], {p: np.stack([realised[p][0], without[p]])[None] for p in without}, [met])["local"][0]
    share = scenario.atmosphere.local_share
    # local_share of the counterfactual obs + c (W - R): c mean W = s (mean obs + c (mean W - mean R))
    seen = np.isfinite(obs)  # means over the observed hours
    assert c == pytest.approx(share * obs[seen].mean() / ((1 - share) * local[1][seen].mean() + share * local[0][seen].mean()), rel=1e-12)
    assert c * local[1][seen].mean() == pytest.approx(share * (obs[seen].mean() + c * (local[1][seen].mean() - local[0][seen].mean())), rel=1e-12)
    assert c < calibration_scale(obs, local[0], share)  # a share of the observation would overstate the effect
    capped = np.where(np.isfinite(obs) & (c * local[0] > obs), obs / (c * local[0]), 1.0)
    np.testing.assert_allclose(effect[0], c * capped * (local[1] - local[0]), rtol=1e-12)
    same, _ = modelled_effect(scenario.atmosphere, met, obs, {p: v[None] for p, v in without.items()}, without)
    assert np.abs(same).max() == 0.0


def test_demo_evaluation_figures(demo):
    m = demo.metrics
    assert m["compliance"]["verdicts"]["not complied"] >= 3 and m["compliance"]["treatment_violations"] >= 1
    assert m["compliance"]["meter_resets"] == 1 and m["compliance"]["meter_gap_hours"] == 30
    effect = m["pm25_effect"]
    low, high = effect["mean_reduction_during_warnings_p05_p95_ug_m3"]
    assert 0 < low <= high and effect["mean_reduction_during_warnings_ug_m3"] > 0
    assert [s["shift_h"] for s in effect["warning_shifts"]] == [-48, -24, 0, 24, 48]
    assert set(demo.forecast_skill.lead_day) == set(range(7))
    json.dumps(m)  # plain JSON


def test_cli_writes_the_evaluation_files(tmp_path):
    from cli_runner import run_all

    out = tmp_path / "out"
    r = run_all([{"cwd": str(ROOT), "args": [str(ROOT / "scenarios" / "demo_city_evaluation.yaml"), "--evaluate", "--no-report", "--out", str(out)]}])[0]
    assert r["returncode"] == 0, r["stderr"]
    for name in ("compliance.csv", "evaluation.json", "review.csv", "work_index.csv", "evaluation_pm25.csv", "measures.csv", "metrics.json"):
        assert (out / name).is_file(), name
    compliance = pd.read_csv(out / "compliance.csv", keep_default_na=False)
    assert set(compliance.verdict) <= {"complied", "partly", "not complied", "no data"}
    manifest = json.loads((out / ".manifest.json").read_text())
    assert "compliance.csv" in manifest["files"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_evaluation_page_is_self_contained(demo, tmp_path, lang):
    from sim.report.evaluation import EVAL_CHARTS, write_evaluation_report

    written = write_evaluation_report(demo, tmp_path, lang=lang)
    assert written[-1] == "evaluation.html" and {f"charts/{n}.png" for n in EVAL_CHARTS} <= set(written)
    page = (tmp_path / "evaluation.html").read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == len(EVAL_CHARTS)
    assert 'src="http' not in page and "<link" not in page
    assert ("效果评估报告" in page and "未落实" in page) if lang == "zh" else ("after-action evaluation" in page and "Not complied" in page)
    assert "DC0" in page  # the review list names the enterprises


def test_lines_in_blocks_give_the_same_figures(episode, monkeypatch):
    import sim.evaluation as evaluation

    path = episode({"S2": "none", "S3": "treatment_off", "S6": "half"})
    whole = evaluate(load_scenario(path))
    monkeypatch.setattr(evaluation, "LINE_HOURS", 1)  # one line per block
    blocks = evaluate(load_scenario(path))
    pd.testing.assert_frame_equal(whole.compliance, blocks.compliance)
    pd.testing.assert_frame_equal(whole.cuts_by_group, blocks.cuts_by_group)
    for key in ("list_ratio_planned", "list_ratio_realised"):
        for p, v in whole.metrics[key]["orange"].items():
            assert blocks.metrics[key]["orange"][p] == (None if v is None else pytest.approx(v, rel=1e-12))


def test_a_warning_in_the_baseline_days_is_named(episode):
    path = episode({})
    issued = path.parent / "issued.csv"
    issued.write_text(issued.read_text(encoding="utf-8") + "yellow,2023-11-29T10:00,2023-11-30T00:00,2023-12-01T00:00\n", encoding="utf-8")
    ev = evaluate(load_scenario(path))
    assert any("falls in the baseline days" in n for n in ev.notes)
    assert len(ev.issued) == 1  # the period's warning only


def test_a_meter_without_baseline_readings_gives_no_data(episode):
    path = episode({})
    power = pd.read_csv(path.parent / "power.csv", keep_default_na=False)
    power = power[~((power.enterprise_id == "S1") & (power.time < "2023-12-05T00:00"))]
    power.to_csv(path.parent / "power.csv", index=False)
    table = evaluate(load_scenario(path)).compliance.set_index("enterprise_id")
    assert table.loc["S1", "verdict"] == "no data" and table.loc["S1", "reason"].startswith("no normal load")


# --------------------------------------------------------------------------- several cities

CITY_OF = {"S1": "alpha", "S2": "alpha", "S3": "alpha", "X1": "alpha", "S4": "beta", "S5": "beta", "S6": "beta", "D1": "beta"}
MET = ROOT / "scenarios" / "data" / "demo_episode_2023-12.csv"
#: The two cities placed 95 km apart, east-west, with the demo region's weather (wind directions).
REGION = {"alpha": {"meteorology": str(ROOT / "scenarios" / "data" / "demo_region" / "demo_city.csv"), "lat": 32.16, "lon": 119.47, "area_km2": 4000.0},
          "beta": {"meteorology": str(ROOT / "scenarios" / "data" / "demo_region" / "east_city.csv"), "lat": 32.10, "lon": 120.45, "area_km2": 4000.0}}


BEHAVIOUR = {"S2": "none", "S3": "treatment_off", "S4": "gap", "S5": "reset", "S6": "half", "X1": "up"}


def _two_city_files(folder, cities: tuple[str, ...], regional: bool = False, behaviour: dict | None = None) -> object:
    """The tiny episode with its firms split over alpha and beta (each with its own observations,
    warning, forecasts and box), as one scenario of the ``cities`` given; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = _list().splitlines()
    keep = [rows[0]] + [r.replace(",tiny,", f",{CITY_OF[r.split(',')[0]]},") for r in rows[1:] if CITY_OF[r.split(",")[0]] in cities]
    (folder / "list.csv").write_text("\n".join(keep) + "\n", encoding="utf-8")
    (folder / "policy.yaml").write_text(yaml.safe_dump(TINY_POLICY), encoding="utf-8")
    meters = _meters(BEHAVIOUR if behaviour is None else behaviour)
    meters[meters.enterprise_id.map(CITY_OF).isin(cities)].to_csv(folder / "power.csv", index=False)
    times = pd.date_range("2023-12-04", "2023-12-07", freq="h", inclusive="left")
    hour = np.arange(len(times))
    # every file holds both cities' rows: a city's own run reads its rows only
    pd.concat([pd.DataFrame({"city": "alpha", "time": times.strftime("%Y-%m-%dT%H:%M"), "pm25_ug_m3": 120.0 + 40.0 * np.sin(hour / 9.0)}),
               pd.DataFrame({"city": "beta", "time": times.strftime("%Y-%m-%dT%H:%M"), "pm25_ug_m3": 180.0 + 30.0 * np.cos(hour / 7.0)})]).to_csv(folder / "obs.csv", index=False)
    (folder / "issued.csv").write_text(f"city,level,issued_at,start,end\nbeta,orange,2023-12-03T20:00,2023-12-04T20:00,{WARNING[1]}\n"
                                       f"alpha,orange,2023-12-04T10:00,{WARNING[0]},{WARNING[1]}\n", encoding="utf-8")
    (folder / "forecasts.csv").write_text("city,issue_date,target_date,pm25_ug_m3\nalpha,2023-12-04,2023-12-05,160\nalpha,2023-12-04,2023-12-06,90\n"
                                          "beta,2023-12-04,2023-12-05,100\nbeta,2023-12-04,2023-12-06,200\n", encoding="utf-8")
    met = pd.read_csv(MET, dtype=str)  # beta's weather: a lower, windier box than alpha's
    met["mixing_height_m"] = (0.7 * met.mixing_height_m.astype(float)).round(0).astype(int).astype(str)
    met["wind_speed_m_s"] = (1.2 * met.wind_speed_m_s.astype(float)).round(2).astype(str)
    met.to_csv(folder / "beta_met.csv", index=False)
    boxes = {"alpha": {"meteorology": str(MET), "area_km2": 800.0}, "beta": {"meteorology": "beta_met.csv", "area_km2": 1500.0, "local_share": 0.6}}
    others = {c: {"city": c, "categories": [{"name": "traffic", "emissions_t_d": {"nox": nox, "pm10": 0.4, "pm25": 0.3},
                                              "reduction": {"yellow": {"nox": 0.1}, "orange": {"nox": 0.2, "pm25": 0.1}, "red": 0.3}}]}
              for c, nox in (("alpha", 2.0), ("beta", 5.0))}
    scenario = {
        "name": "two cities evaluated", "period": {"start": "2023-12-04T00:00", "end": "2023-12-07T00:00"},
        "inventory": {"enterprises": "list.csv", "emission_factors": str(FIXTURES / "factors"), "other_sources": [others[c] for c in cities]},
        "policy": "policy.yaml",
        "warnings": {"schedule": [{"level": "orange", "start": WARNING[0], "end": WARNING[1]}]},
        "atmosphere": ({"model": "box", "local_share": 0.5, "cities": {c: boxes[c] for c in cities}} if not regional else
                       {"model": "regional", "spin_up_days": 2, "cities": {c: REGION[c] for c in cities}}),
        "ensemble": {"members": 1, "seed": 7},
        "evaluation": {"observed_pm25": "obs.csv", "warnings_issued": "issued.csv", "forecasts": "forecasts.csv", "power_use": "power.csv", "baseline_days": 7},
        "output": {"dir": "out"},
    }
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False), encoding="utf-8")
    return path


def test_two_cities_evaluated_as_each_city_alone(tmp_path):
    both = evaluate(load_scenario(_two_city_files(tmp_path / "both", ("alpha", "beta"))))
    assert both.metrics["cities"] == ["alpha", "beta"] and set(both.by_city) == {"alpha", "beta"}
    assert list(both.compliance.columns[:2]) == ["city", "enterprise_id"]
    for city in ("alpha", "beta"):
        alone = evaluate(load_scenario(_two_city_files(tmp_path / city, (city,))))
        assert "city" not in alone.compliance.columns  # one city: the tables as before
        mine = both.compliance[both.compliance.city == city].drop(columns="city").reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, alone.compliance)
        assert set(mine.enterprise_id) == {f for f, c in CITY_OF.items() if c == city}
        pm = both.pm25[both.pm25.city == city].drop(columns="city").reset_index(drop=True)
        pd.testing.assert_frame_equal(pm, alone.pm25)  # observed, counterfactual, effect, band, level
        for name in ("compliance_hourly", "work_index", "forecast_skill", "cuts_by_group", "review"):
            mine = getattr(both, name)
            pd.testing.assert_frame_equal(mine[mine.city == city].drop(columns="city").reset_index(drop=True), getattr(alone, name).reset_index(drop=True), check_dtype=False)
        figures = {k: v for k, v in both.metrics["by_city"][city].items() if k != "notes"}
        assert figures == {k: v for k, v in alone.metrics.items() if k != "notes"}
    # the verdicts as the one-city test gives them, each in its city
    verdict = both.compliance.set_index("enterprise_id")
    assert verdict.verdict.to_dict() == {"S1": "complied", "S2": "not complied", "S3": "not complied", "X1": "complied",
                                         "S4": "no data", "S5": "complied", "S6": "not complied", "D1": "complied"}  # S6: a 20 % cut from
    # 5 Dec, when beta's warning (and the cut asked) started on 4 Dec 20:00: below half the asked cut over the asked hours
    assert verdict.city.to_dict() == CITY_OF
    # the two boxes differ, so do the effects; the province figures add the cities' up
    a, b = (both.metrics["by_city"][c]["pm25_effect"] for c in ("alpha", "beta"))
    assert a["mean_reduction_during_warnings_ug_m3"] > 0 and b["mean_reduction_during_warnings_ug_m3"] > 0
    assert a["mean_reduction_during_warnings_ug_m3"] != pytest.approx(b["mean_reduction_during_warnings_ug_m3"], rel=1e-3)
    hours = {c: int(((both.pm25.city == c) & (both.pm25.level != "none")).sum()) for c in ("alpha", "beta")}
    assert hours == {"alpha": 24, "beta": 28}  # beta's own, earlier warning
    assert both.metrics["pm25_effect"]["mean_reduction_during_warnings_ug_m3"] == pytest.approx(
        (24 * a["mean_reduction_during_warnings_ug_m3"] + 28 * b["mean_reduction_during_warnings_ug_m3"]) / 52)
    assert both.metrics["compliance"]["verdicts"] == {"complied": 4, "partly": 0, "not complied": 3, "no data": 1}
    assert both.metrics["by_city"]["alpha"]["baseline_days"]["start"] == "2023-11-28T00:00:00"
    assert both.metrics["by_city"]["beta"]["baseline_days"]["start"] == "2023-11-27T00:00:00"  # so the meters' hours start a day earlier
    for p in ("so2", "nox"):
        assert both.metrics["cuts_during_warnings_t"]["realised"][p] == pytest.approx(
            sum(both.metrics["by_city"][c]["cuts_during_warnings_t"]["realised"][p] for c in ("alpha", "beta")))
    assert [w["city"] for w in both.metrics["warnings_issued"]] == ["alpha", "beta"]
    assert any("1 meter reset" in n and "S5" in n for n in both.notes)
    hits = sum(both.metrics["by_city"][c]["forecast_skill"]["level_hit_rate"] * 2 for c in ("alpha", "beta")) / 4
    assert both.metrics["forecast_skill"]["level_hit_rate"] == pytest.approx(hits)


def test_several_cities_need_the_city_column(tmp_path):
    path = _two_city_files(tmp_path, ("alpha", "beta"))
    pd.read_csv(tmp_path / "obs.csv").query("city == 'alpha'").drop(columns="city").to_csv(tmp_path / "obs.csv", index=False)
    with pytest.raises(InputError) as err:
        evaluate(load_scenario(path))
    assert err.value.file.endswith("obs.csv") and err.value.where == "column city" and "2 cities" in err.value.problem and "city column" in err.value.fix


def test_several_cities_refuse_a_city_not_in_the_list(tmp_path):
    path = _two_city_files(tmp_path, ("alpha", "beta"))
    with open(tmp_path / "forecasts.csv", "a", encoding="utf-8") as fh:
        fh.write("gamma,2023-12-04,2023-12-05,100\n")
    with pytest.raises(InputError) as err:
        evaluate(load_scenario(path))
    assert err.value.file.endswith("forecasts.csv") and err.value.where == "row 6, column city" and "'gamma'" in err.value.problem


def test_cli_writes_a_page_per_city(tmp_path):
    from cli_runner import run_all

    path = _two_city_files(tmp_path, ("alpha", "beta"))
    out = tmp_path / "cli_out"
    r = run_all([{"cwd": str(tmp_path), "args": [str(path), "--evaluate", "--out", str(out)]}])[0]
    assert r["returncode"] == 0, r["stderr"]
    assert "alpha PM2.5 effect during warnings" in r["stderr"] and "beta PM2.5 effect during warnings" in r["stderr"]
    for city in ("alpha", "beta"):
        page = (out / f"evaluation_{city}.html").read_text(encoding="utf-8")
        assert f"two cities evaluated: {city}" in page and (out / "charts" / f"eval_pm25_{city}.png").is_file()
    assert not (out / "evaluation.html").exists()
    for name in ("compliance", "compliance_hourly", "work_index", "evaluation_pm25", "forecast_skill", "cuts_by_group", "review"):
        table = pd.read_csv(out / f"{name}.csv", keep_default_na=False)
        assert table.columns[0] == "city" and set(table.city) <= {"alpha", "beta"}, name
    figures = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    assert set(figures["by_city"]) == {"alpha", "beta"} and "warning_timeliness" in figures["by_city"]["beta"]


def test_a_city_without_meters_is_evaluated_without_compliance(tmp_path):
    path = _two_city_files(tmp_path, ("alpha", "beta"))
    power = pd.read_csv(tmp_path / "power.csv", dtype=str, keep_default_na=False)
    power[power.enterprise_id.map(CITY_OF) == "alpha"].to_csv(tmp_path / "power.csv", index=False)
    ev = evaluate(load_scenario(path))
    beta = ev.metrics["by_city"]["beta"]
    assert beta["compliance"]["units"] == 0 and beta["compliance"]["meters"] == 0 and set(ev.compliance.city) == {"alpha"}
    assert beta["lines_with_cuts_unmetered"] == 4  # S4, S5, S6 and D1, all grade C
    # nothing measured in beta: its realised cuts are the planned ones
    assert beta["list_ratio_realised"] == beta["list_ratio_planned"]
    full = evaluate(load_scenario(_two_city_files(tmp_path / "full", ("alpha", "beta"))))
    assert ev.metrics["by_city"]["alpha"] == full.metrics["by_city"]["alpha"]


def test_regional_model_couples_the_cities(tmp_path):
    """model: regional: one coupled run of both cities; alpha's firms not cutting lowers beta's
    effect too (alpha's air reaches beta), which no box per city would show."""
    ev = evaluate(load_scenario(_two_city_files(tmp_path / "cut", ("alpha", "beta"), regional=True)))
    lazy = {**BEHAVIOUR, **{f: "none" for f, c in CITY_OF.items() if c == "alpha"}}
    ev_lazy = evaluate(load_scenario(_two_city_files(tmp_path / "lazy", ("alpha", "beta"), regional=True, behaviour=lazy)))
    box = [evaluate(load_scenario(_two_city_files(tmp_path / f"box{i}", ("alpha", "beta"), behaviour=b))) for i, b in enumerate((None, lazy))]
    mean = "mean_reduction_during_warnings_ug_m3"
    for city in ("alpha", "beta"):
        pm = ev.pm25[ev.pm25.city == city]
        np.testing.assert_allclose(pm.counterfactual - pm.observed, pm.effect, rtol=0, atol=1e-9)
        figures = ev.metrics["by_city"][city]["pm25_effect"]
        assert figures[mean] > 0 and figures["band"] == "none (regional model)" and figures["calibration_scale"] == 1.0
        assert ev_lazy.metrics["by_city"][city]["pm25_effect"][mean] < figures[mean]
    assert ev_lazy.compliance.set_index("enterprise_id").verdict["S1"] == "not complied"
    # with a box per city, beta's effect does not see what alpha's firms did
    assert box[1].metrics["by_city"]["beta"]["pm25_effect"] == box[0].metrics["by_city"]["beta"]["pm25_effect"]
    assert box[1].metrics["by_city"]["alpha"]["pm25_effect"][mean] < box[0].metrics["by_city"]["alpha"]["pm25_effect"][mean]
    assert any("region's modelled sources make" in n for n in ev.notes)


def test_regional_city_without_listed_lines(tmp_path):
    """A city of the region whose sources are only categories (no listed line) is evaluated too:
    no compliance rows, its effect from its other sources' cuts and its neighbour's."""
    path = _two_city_files(tmp_path, ("alpha", "beta"), regional=True)
    for name in ("list.csv", "power.csv"):
        table = pd.read_csv(tmp_path / name, dtype=str, keep_default_na=False)
        table[table.enterprise_id.map(CITY_OF) == "alpha"].to_csv(tmp_path / name, index=False)
    ev = evaluate(load_scenario(path))
    beta = ev.metrics["by_city"]["beta"]
    assert ev.metrics["cities"] == ["alpha", "beta"] and beta["compliance"]["units"] == 0 and set(ev.compliance.city) == {"alpha"}
    assert beta["pm25_effect"]["mean_reduction_during_warnings_ug_m3"] > 0


def test_an_error_in_a_city_file_names_the_file_row(tmp_path):
    """Rows filtered by city keep their row numbers in the file: beta's third observation is row 76
    (the header, then alpha's 72 hours)."""
    path = _two_city_files(tmp_path, ("alpha", "beta"))
    obs = pd.read_csv(tmp_path / "obs.csv", dtype=str)
    obs.loc[74, "pm25_ug_m3"] = "12,5"
    obs.to_csv(tmp_path / "obs.csv", index=False)
    with pytest.raises(InputError) as err:
        evaluate(load_scenario(path))
    assert err.value.file.endswith("obs.csv") and err.value.where == "row 76, column pm25_ug_m3" and "point" in err.value.fix


def test_shifted_cuts_move_the_cut_fraction_not_the_tonnes():
    """A realised cut moved onto hours of lower activity cuts the same fraction of them, so it
    never drives emissions below zero (hand-computed)."""
    from sim.physics.effect import shifted_cuts

    without = np.array([10.0, 10.0, 2.0, 2.0, 0.0])
    realised = np.array([5.0, 5.0, 2.0, 2.0, 0.0])  # half cut in the busy hours only
    later, earlier = shifted_cuts(without, realised, [2, -1])
    np.testing.assert_allclose(later, [10.0, 10.0, 1.0, 1.0, 0.0])  # 50 % of the quiet hours
    np.testing.assert_allclose(earlier, [5.0, 10.0, 2.0, 2.0, 0.0])
    assert (later >= 0).all() and (earlier >= 0).all()


def test_evaluation_without_meters_or_forecasts(demo):
    """A real episode evaluated from the observation and the published measures alone: no line
    is checked (realised = planned, every line), no forecast skill; the page says so."""
    from sim.report.evaluation import render_evaluation_html

    scenario = demo.scenario
    bare = scenario.replace(evaluation=scenario.evaluation.model_copy(update={"power_use": None, "forecasts": None}))
    ev = evaluate(bare)
    assert ev.compliance.empty and ev.forecast_skill.empty
    assert ev.metrics["compliance"]["units"] == 0 and ev.metrics["forecast_skill"]["level_hit_rate"] is None
    for level, planned in ev.metrics["list_ratio_planned"].items():
        assert ev.metrics["list_ratio_realised"][level] == planned
    # with meters some lines cut less than asked, so the effect without them is at least as large
    assert ev.metrics["pm25_effect"]["mean_reduction_during_warnings_ug_m3"] >= demo.metrics["pm25_effect"]["mean_reduction_during_warnings_ug_m3"]
    page = render_evaluation_html(ev, {}, "en")
    assert "No power_use file was given" in page and "No forecasts file was given" in page
    assert "No power_use file was given" not in render_evaluation_html(demo, {}, "en")


def test_counterfactual_undoes_the_regional_background_cut():
    """Hand-computed: obs = (CF − c W)(1 − f) + c R hour by hour, with c making c·mean W
    local_share of mean CF; the effect is CF − obs."""
    from sim.physics.effect import counterfactual_background, counterfactual_calibration_scale

    obs = np.array([100.0, 120.0, 80.0, np.nan])
    w, r = np.array([40.0, 50.0, 30.0, 35.0]), np.array([30.0, 35.0, 30.0, 25.0])
    f = np.array([0.0, 0.2, 0.3, 0.1])
    c = counterfactual_calibration_scale(obs, r, w, 0.5, f)
    bg = counterfactual_background(obs, c * r, f)
    cf = obs + c * (w - r) + bg * f
    seen = np.isfinite(obs)
    np.testing.assert_allclose(((cf - c * w) * (1 - f) + c * r)[seen], obs[seen], rtol=1e-12)
    assert c * w[seen].mean() == pytest.approx(0.5 * cf[seen].mean(), rel=1e-12)  # local_share of the counterfactual
    assert bg[~seen] == 0.0
    assert counterfactual_calibration_scale(obs, r, w, 0.5, np.zeros(4)) == pytest.approx(counterfactual_calibration_scale(obs, r, w, 0.5), rel=1e-15)


def test_a_whole_regional_cut_cannot_be_undone(demo):
    """A regional_background_cut of 1 leaves no background to infer: one clear error."""
    from sim.config.scenario import LevelFractions
    from sim.errors import InputError
    from sim.variants import with_atmosphere

    whole = with_atmosphere(demo.scenario, regional_background_cut=LevelFractions(yellow=1.0, orange=1.0, red=1.0), regional_response_h=1.0)
    with pytest.raises(InputError, match="regional_background_cut"):
        evaluate(whole)
