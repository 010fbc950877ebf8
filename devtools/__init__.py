"""Tools for the tests and the benchmarks alike (neither imports the other)."""
