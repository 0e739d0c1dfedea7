"""The plain script a user writes for t-SNE of a large table: read the Parquet file, PCA to 50 dimensions, then
scikit-learn's `TSNE(random_state=0)` on every row (Barnes-Hut, every core). Writes the coordinates (OUT.npy).

Usage: python benchmarks/plain_tsne.py DATA.parquet OUT.npy
"""

import sys

import numpy as np
import pyarrow.parquet as pq
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

table = pq.read_table(sys.argv[1], columns=["embedding"])
X = table.column("embedding").combine_chunks().flatten().to_numpy().reshape(table.num_rows, -1)
X = PCA(n_components=50, random_state=0).fit_transform(X)
np.save(sys.argv[2], TSNE(random_state=0, n_jobs=-1).fit_transform(X))
