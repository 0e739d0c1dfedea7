"""Stage 1, read: any table file or folder (CSV, TSV, Parquet, JSON, JSON Lines, W&B, TensorBoard, Hugging Face,
Arrow, NumPy) as a `Source` that streams Arrow batches. `source.open_source` is the one way in."""
