"""Stage 4, vectors: the sampled rows' embedding as a float32 matrix, rows without a usable vector counted, columns
on different scales rescaled, wide ones reduced by PCA. `matrix.matrix_from`."""
