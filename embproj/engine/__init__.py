"""Where the batch steps run: `dask.py` is `--engine dask`; the local engine is the stages themselves."""
