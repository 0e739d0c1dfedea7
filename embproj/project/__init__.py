"""Stage 6, project: PCA, UMAP or t-SNE fitted on a sample, every other row placed into the fitted map, and the
map's quality. `projectors.project`."""
