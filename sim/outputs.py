"""Writing a result to its output directory, atomically.

Files are written into a temporary sibling directory and moved into place at the end, so a
failed or interrupted run never leaves a half-written directory, and an existing directory is
replaced only by a complete one.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from sim.api import Result

FLOAT_FORMAT = "%.9g"


def write_tables(result: Result, folder: Path) -> list[str]:
    """Write the contract's files into ``folder`` (which exists); return their names."""
    result.emissions.to_csv(folder / "emissions.csv", index=False, float_format=FLOAT_FORMAT, date_format="%Y-%m-%dT%H:%M", lineterminator="\n")
    result.emissions_by_group.to_csv(folder / "emissions_by_group.csv", index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    result.warnings.to_csv(folder / "warnings.csv", index=False, date_format="%Y-%m-%dT%H:%M", lineterminator="\n")
    result.measures.to_csv(folder / "measures.csv", index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    names = ["emissions.csv", "emissions_by_group.csv", "warnings.csv", "measures.csv", "metrics.json"]
    if result.pm25 is not None:
        result.pm25.to_csv(folder / "pm25.csv", index=False, float_format=FLOAT_FORMAT, date_format="%Y-%m-%dT%H:%M", lineterminator="\n")
        names.append("pm25.csv")
    if result.pm25_by_city is not None:
        result.pm25_by_city.to_csv(folder / "pm25_by_city.csv", index=False, float_format=FLOAT_FORMAT, date_format="%Y-%m-%dT%H:%M", lineterminator="\n")
        names.append("pm25_by_city.csv")
    (folder / "metrics.json").write_text(json.dumps(result.metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return names


def write_outputs(result: Result, out_dir: str | Path) -> Path:
    """Write every output file of ``result`` to ``out_dir`` atomically; return the directory."""
    out_dir = Path(out_dir).resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        write_tables(result, staging)
        if out_dir.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
            os.replace(out_dir, retired / out_dir.name)
            os.replace(staging, out_dir)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir
