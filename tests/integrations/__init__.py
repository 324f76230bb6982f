"""Tests of kvmap inside the libraries it plugs into: zarr, joblib, xarray, dask."""
