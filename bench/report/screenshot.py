"""Render a results file's HTML report in headless Chromium and save a screenshot.

    python -m bench.report.screenshot tests/data/results-v1.json plots/report-screenshot.png

Writes the HTML beside the screenshot (``<png stem>.html``). Needs Debian's chromium (``apt-get install chromium``);
Chromium runs without network features, sandbox or GPU, in a throw-away profile, and is given 120 s.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from bench.report.html import html_report
from bench.results.files import read_results, resolve
from bench.results.summary import summarise_file

CHROMIUM = Path("/usr/bin/chromium")
"""Where Debian's chromium package installs its launcher."""


def screenshot(html: Path, png: Path, width: int = 1280, height: int = 2000) -> None:
    """Load ``html`` from disk in headless Chromium and write a ``width`` x ``height`` PNG of it to ``png``."""
    with tempfile.TemporaryDirectory(prefix="iobench-chromium-") as profile:
        subprocess.run(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--screenshot={png.resolve()}",
                f"--window-size={width},{height}",
                html.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def main(argv: list[str]) -> int:
    """``RESULTS.json OUT.png``: write the report beside OUT and screenshot it."""
    if len(argv) != 2:
        print("usage: python -m bench.report.screenshot RESULTS.json OUT.png", file=sys.stderr)
        return 2
    results, png = Path(argv[0]), Path(argv[1])
    png.parent.mkdir(parents=True, exist_ok=True)
    html = png.with_suffix(".html")
    loaded = read_results(resolve(results))
    html.write_text(html_report(loaded, summarise_file(loaded)), encoding="utf-8")
    screenshot(html, png)
    print(f"report: {html}\nscreenshot: {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
