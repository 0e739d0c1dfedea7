"""Any image cell (bytes, a path, pixels, a W&B or Hugging Face image) as a bounded, re-encoded thumbnail, within the
report's size budget."""
