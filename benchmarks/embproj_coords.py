"""embproj's pipeline through its Python API, as `embproj project` runs it, keeping the coordinates.

Usage: python benchmarks/embproj_coords.py DATA OUT.html ALGO [MAX_POINTS]
Writes OUT.html, OUT.npy (the coordinates; rows in file order when no row is sampled out or dropped) and
OUT.json: seconds per stage (each includes the imports it triggers), for run.py's "where the time goes".
"""

import time

START = time.perf_counter()

import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from embproj.options import DEFAULT_MAX_POINTS, Options  # noqa: E402
from embproj.pipeline import run  # noqa: E402

imported = time.perf_counter()
data, out, algo = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
max_points = int(sys.argv[4]) if len(sys.argv) > 4 else DEFAULT_MAX_POINTS
result = run(Options(data=data, output=out, algo=algo, max_points=max_points))
done = time.perf_counter()
np.save(out.with_suffix(".npy"), result.projections[0].xy)

timed = result.summary.get("seconds", {})  # the stages the pipeline times itself
rest = done - imported - sum(timed.values())  # what the pipeline does not time: the report, as of now
stages = {"import embproj": imported - START, **timed, "untimed (report)": rest}
stages["in process"] = done - START
out.with_suffix(".json").write_text(json.dumps(stages))
