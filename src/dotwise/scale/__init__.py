"""Scale-out: the same dotwise calls on Dask arrays and a ``distributed`` cluster (zarr on disk)."""
