"""Stage 5, neighbours: every row's nearest rows, found once a run (exact while cheap, approximate above) and used
by UMAP, t-SNE, the page, the quality numbers. `search.find_neighbours`."""
