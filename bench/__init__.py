"""The benchmarks, run as modules from the checkout: `python -m bench.floor`, `python -m bench.scale …` (bench/README.md)."""
