"""embproj's pipeline through its Python API, as `embproj project` runs it, keeping the coordinates.

Usage: python benchmarks/embproj_coords.py DATA OUT.html ALGO [MAX_POINTS]
Writes OUT.html and OUT.npy (the coordinates; rows in file order when no row is sampled out or dropped).
"""

import sys
from pathlib import Path

import numpy as np

from embproj.options import DEFAULTS, Options
from embproj.pipeline import run

data, out, algo = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
max_points = int(sys.argv[4]) if len(sys.argv) > 4 else DEFAULTS.max_points
result = run(Options(data=data, output=out, algo=algo, max_points=max_points))
np.save(out.with_suffix(".npy"), result.projections[0].xy)
