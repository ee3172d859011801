"""shimgen's benchmarks: ``./dev bench`` (see README.md). Timings live here, never in the test suite."""
