"""The benchmark generators: the scripts that make the committed result files under docs/results/, the tables
generated into the docs from them, the docs' pictures and the look benchmark's data sets.

They run from a checkout through one runner, `python -m benchmarks` (benchmarks/__main__.py), which lists
them, runs one (`python -m benchmarks NAME [ARGS]`) or checks every generated table against the committed
result files (`python -m benchmarks --check`). The shared data sets are found through one setting,
benchmarks/paths.py's SHARED (`--shared` where a generator reads them, else $LOWLIGHT_SHARED_DATA, else
../shared/data beside the checkout). None of this is in the wheel.
"""
