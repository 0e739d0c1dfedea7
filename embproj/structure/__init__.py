"""Stage 7, structure: what the maps show beyond their points: clusters and their names, each map's density.
`clusters.find_structure`."""
