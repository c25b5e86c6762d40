"""Run iobench's command line, importing iobench's own ``bench`` even where the current folder has another."""

import sys
from pathlib import Path

_HOME = str(Path(__file__).resolve().parent.parent)  # the folder holding both this package and iobench's bench
sys.path.insert(0, _HOME)
try:
    from bench.cli.main import main
finally:
    sys.path.remove(_HOME)

raise SystemExit(main())
