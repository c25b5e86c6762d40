"""Allow ``python -m bench``."""

from bench.cli.main import main

raise SystemExit(main())
