"""Where the batch steps run and the rows' vectors live: `base.Engine`, the interface; `local.py` (this process) and
`dask.py` (`--engine dask`) its two engines."""
