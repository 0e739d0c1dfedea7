"""Stage 2, plan: which columns are the embedding, the colour, the label, the image, the hover and the charts, each
choice with its reason. `choose.make_plan`."""
