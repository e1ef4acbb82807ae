"""Measured, not guessed: `python -m benchmarks [--quick]` prints one report.

Each module listed in `benchmarks.__main__.MODULES` defines
`measure(quick: bool) -> list[Figure]`; every figure carries its bound, so the
report prints value, bound and their ratio measured in the same run.
"""
