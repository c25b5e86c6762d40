"""``python -m bench.perf [--full]``: run the suite and print the table."""

from bench.perf.suite import main

raise SystemExit(main())
