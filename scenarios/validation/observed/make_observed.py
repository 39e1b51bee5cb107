"""Slices of observed Beijing station data for the real-episode cases, and their meteorology.

Two steps, both writing into this folder:

1. ``python scenarios/validation/observed/make_observed.py --slice PATH_TO_DATASET`` cuts, from
   the twelve station files of the UCI "Beijing Multi-Site Air-Quality Data" (dataset 501;
   ``PRSA_Data_<station>_20130301-20170228.csv`` or ``.csv.gz``), the rows of each episode
   window below (all columns and cells kept, quoted only where needed) into
   ``stations_<episode>.csv.gz``.
2. ``python scenarios/validation/observed/make_observed.py`` turns each slice into a meteorology
   file ``beijing_<episode>.csv`` (:func:`sim.physics.observed.meteorology_from_stations`: the
   stations' mean PM2.5 as the baseline, temperature, humidity from the dew point, the mean wind
   vector, the mixing height estimated from them), rewriting identical bytes.

Windows: each episode with a week before it (the meter baseline days of an after-action
evaluation, and the model's spin-up) and a few days after.
"""

from __future__ import annotations

import argparse
import gzip
import io
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sim.inputs.meteorology import format_csv  # noqa: E402
from sim.physics.observed import meteorology_from_stations  # noqa: E402

#: Beijing's centre for the sun and the Coriolis parameter (Tian'anmen, [°N, °E]).
BEIJING = (39.90, 116.40)
#: episode -> (first hour, end exclusive), local time (Beijing, UTC+8).
EPISODES = {
    "2014-11_apec": ("2014-10-25T00:00", "2014-11-16T00:00"),        # APEC controls 3-12 Nov 2014
    "2015-12_red_alerts": ("2015-11-30T00:00", "2015-12-26T00:00"),  # red alerts 8-10 and 19-22 Dec 2015
    "2016-12_red_alert": ("2016-12-08T00:00", "2016-12-25T00:00"),   # regional red alert 16-21 Dec 2016
}


def slice_dataset(source: Path) -> None:
    files = sorted(source.glob("PRSA_Data_*_20130301-20170228.csv*"))
    if len(files) != 12:
        raise SystemExit(f"{source}: expected the 12 station files of the data set, found {len(files)}")
    tables = [pd.read_csv(f, dtype=str, keep_default_na=False) for f in files]
    data = pd.concat(tables, ignore_index=True)
    times = pd.to_datetime(data[["year", "month", "day", "hour"]].astype(int))
    for episode, (start, end) in EPISODES.items():
        rows = data[(times >= start) & (times < end)]
        text = rows.to_csv(index=False, lineterminator="\n")  # the cells as in the source, quoted only where needed
        (HERE / f"stations_{episode}.csv.gz").write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))


def write_meteorology() -> None:
    for episode, (start, end) in EPISODES.items():
        frame, _ = meteorology_from_stations([HERE / f"stations_{episode}.csv.gz"], start, end, *BEIJING)
        (HERE / f"beijing_{episode}.csv").write_text(format_csv(frame), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slice", type=Path, metavar="DATASET", help="folder of the 12 station files: cut the episode slices first")
    args = parser.parse_args(argv)
    if args.slice is not None:
        slice_dataset(args.slice)
    write_meteorology()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
