"""iobench's own async benchmarks: plain tests under `make test`, timed with `--benchmark-enable`."""
