"""The plain script a user writes for a large table: read the Parquet file, PCA to 50 dimensions, then
`umap.UMAP(random_state=0)` on every row. Writes the coordinates (OUT.npy) for run.py's quality column; no page.

Usage: python benchmarks/plain_umap.py DATA.parquet OUT.npy
"""

import sys

import numpy as np
import pyarrow.parquet as pq
import umap
from sklearn.decomposition import PCA

table = pq.read_table(sys.argv[1], columns=["embedding"])
X = table.column("embedding").combine_chunks().flatten().to_numpy().reshape(table.num_rows, -1)
X = PCA(n_components=50, random_state=0).fit_transform(X)
np.save(sys.argv[2], umap.UMAP(random_state=0).fit_transform(X))
