"""The UMAP script a user writes by hand: pandas, umap-learn with its defaults, a Bokeh scatter with hover on
the label, saved with INLINE resources so that the HTML works offline.

Usage: python benchmarks/handwritten_umap.py DATA.parquet OUT.html
Also writes OUT.npy (the coordinates, in file row order) for run.py to score the layout.
"""

import sys

import numpy as np
import pandas as pd
import umap  # a user's script imports it at the top
from bokeh.models import ColumnDataSource, HoverTool
from bokeh.plotting import figure, save
from bokeh.resources import INLINE

data, out = sys.argv[1], sys.argv[2]
df = pd.read_parquet(data)
if "embedding" in df.columns:
    X = np.vstack(df["embedding"].to_numpy())
else:
    X = df[[c for c in df.columns if c.startswith("pixel_")]].to_numpy()
label = "target" if "target" in df.columns else "label"

xy = umap.UMAP(random_state=0).fit_transform(X)
np.save(out.rsplit(".", 1)[0] + ".npy", xy)

source = ColumnDataSource({"x": xy[:, 0], "y": xy[:, 1], "label": df[label].astype(str)})
p = figure(title="UMAP", width=800, height=800, tools="pan,wheel_zoom,box_zoom,reset,save")
p.scatter("x", "y", source=source, size=4, alpha=0.7)
p.add_tools(HoverTool(tooltips=[("label", "@label")]))
save(p, filename=out, resources=INLINE, title="UMAP")
