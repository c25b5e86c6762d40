"""The gate's power and false-alarm rate, measured on this machine from real runs.

    python -m bench.perf.gate_power collect DIR --runs 16     # real `iobench run` results files (a few minutes)
    python -m bench.perf.gate_power analyse DIR               # many gate decisions by resampling their rounds

``collect`` runs, in interleaved order, (a) the shipped ``scenarios/gate`` and (b) two copies of the gate-sleep
scenario on a callable target: ``sleep_then_work_0`` (30 ms of sleep) and ``sleep_then_work_slow`` (the same plus
SPIN_MS of CPU work per task: a real regression of the kind a slow per-response parse makes, which lengthens
taskgroup's and threads' critical path by 20 x SPIN_MS while sequential grows by under 1%).

``analyse`` builds gate decisions the way CI makes them, one baseline file and one new file per decision, each made
of ``repeats`` whole rounds drawn without replacement from real rounds of real files (a round keeps its sequential
and its other strategies together, so the pairing is real; baseline and new rounds come from different files, so
machine load between runs is in the noise). A decision fails when ``exit_code`` is 1:

- false alarm: baseline and new both from (a), or both from the callable (b) without work;
- power: baseline from (b) without work, new from (b) with work (the definition hashes are set equal, as they are
  when code, not the scenario, regressed).
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

SPIN_MS = 0.09
"""CPU work per task in the slow configuration, ms; chosen to cost about 10% of taskgroup's speedup."""

CALLABLE_GATE = """\
# gate-sleep on a callable target (bench.perf.gate_power): {what}
name: gate-sleep
tasks: 20
target:
  callable: "bench.perf.gate_power:{function}"
  sync_callable: "bench.perf.gate_power:{function}_sync"
strategies:
  - sequential
  - taskgroup
  - threads: {{workers: 20}}
repeats: {repeats}
warmup: 1
seed: 12
expect:
  speedup:
    taskgroup: ">= 5"
    threads(workers=20): ">= 5"
  error_rate: "< 1%"
"""


def _spin(ms: float) -> None:
    """Busy-wait ``ms`` milliseconds holding the GIL (work, not waiting)."""
    end = time.perf_counter() + ms / 1000
    while time.perf_counter() < end:
        pass


async def sleep_then_work_0(i: int) -> None:
    """30 ms of asyncio sleep."""
    import asyncio

    await asyncio.sleep(0.030)


def sleep_then_work_0_sync(i: int) -> None:
    """30 ms of blocking sleep."""
    time.sleep(0.030)


async def sleep_then_work_slow(i: int) -> None:
    """30 ms of asyncio sleep, then SPIN_MS of CPU work."""
    import asyncio

    await asyncio.sleep(0.030)
    _spin(SPIN_MS)


def sleep_then_work_slow_sync(i: int) -> None:
    """30 ms of blocking sleep, then SPIN_MS of CPU work."""
    time.sleep(0.030)
    _spin(SPIN_MS)


def _iobench(args: Sequence[str]) -> None:
    command = [sys.executable, "-m", "bench", "run", *args, "--no-plots", "-q"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()}")


def collect(folder: Path, runs: int, repeats: int) -> None:
    """Real results files: DIR/shipped-NN.json, DIR/fast-NN.json, DIR/slow-NN.json, interleaved."""
    folder.mkdir(parents=True, exist_ok=True)
    for kind, function, what in (("fast", "sleep_then_work_0", "no work"), ("slow", "sleep_then_work_slow", "work")):
        scenario = folder / kind / "gate-sleep.yaml"
        scenario.parent.mkdir(exist_ok=True)
        text = CALLABLE_GATE.format(function=function, what=what, repeats=repeats)
        scenario.write_text(text, encoding="utf-8")
    for n in range(runs):
        order = ["shipped", "fast", "slow"]
        random.Random(n).shuffle(order)
        for kind in order:
            source = "scenarios/gate" if kind == "shipped" else str(folder / kind)
            started = time.monotonic()
            _iobench([source, "-o", str(folder / f"{kind}-{n:02d}.json"), "--results-dir", str(folder / "out")])
            print(f"{kind}-{n:02d}: {time.monotonic() - started:.1f} s", flush=True)


def main(argv: list[str] | None = None) -> int:
    """``collect`` or ``analyse``; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m bench.perf.gate_power")
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect")
    c.add_argument("folder", type=Path)
    c.add_argument("--runs", type=int, default=16)
    c.add_argument("--repeats", type=int, default=5)
    a = sub.add_parser("analyse")
    a.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    if args.command == "collect":
        collect(args.folder, args.runs, args.repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
