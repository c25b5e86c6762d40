"""The HTML report rendered by a real browser: headless Chromium loads it from disk and takes a screenshot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import DATA

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (Debian: apt-get install chromium)"),
]


def test_chromium_renders_the_report(tmp_path: Path) -> None:
    png = tmp_path / "report.png"
    done = subprocess.run(
        [sys.executable, "-m", "bench.report.screenshot", str(DATA / "results-v1.json"), str(png)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"report: {png.with_suffix('.html')}\nscreenshot: {png}\n"
    with Image.open(png) as image:
        assert image.size == (1280, 2000)
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 20) or []
        title = rgb.crop((40, 20, 400, 70)).getextrema()  # "iobench report" in dark text near the top left
    assert len(colours) > 50  # text, table rules and charts, not a blank or an error page
    assert min(low for low, _ in title) < 80
