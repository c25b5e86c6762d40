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
import os
import random
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.check import INCONCLUSIVE, decide, judge
from bench.results import ResultsFile, RunResult, read_results
from bench.scenario import Threshold
from bench.stats import median
from bench.summary import summarise

SPIN_MS = float(os.environ.get("GATE_POWER_SPIN_MS", "0.14"))
"""CPU work per task in the slow configuration, ms (0.14 cost taskgroup about 10% of its speedup here)."""

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


def collect(folder: Path, runs: int, repeats: int, start: int = 0) -> None:
    """Real results files: DIR/shipped-NN.json, DIR/fast-NN.json, DIR/slow-NN.json, interleaved."""
    folder.mkdir(parents=True, exist_ok=True)
    for kind, function, what in (("fast", "sleep_then_work_0", "no work"), ("slow", "sleep_then_work_slow", "work")):
        scenario = folder / kind / "gate-sleep.yaml"
        scenario.parent.mkdir(exist_ok=True)
        text = CALLABLE_GATE.format(function=function, what=what, repeats=repeats)
        scenario.write_text(text, encoding="utf-8")
    for n in range(start, start + runs):
        order = ["shipped", "fast", "slow"]
        random.Random(n).shuffle(order)
        for kind in order:
            source = "scenarios/gate" if kind == "shipped" else str(folder / kind)
            started = time.monotonic()
            _iobench([source, "-o", str(folder / f"{kind}-{n:02d}.json"), "--results-dir", str(folder / "out")])
            print(f"{kind}-{n:02d}: {time.monotonic() - started:.1f} s (spin {SPIN_MS} ms)", flush=True)


# --- analyse ------------------------------------------------------------------------------------------


def _load(folder: Path, kind: str) -> list[ResultsFile]:
    """The complete results files of one kind (a file still being written is skipped)."""
    files = [read_results(path) for path in sorted(folder.glob(f"{kind}-*.json"))]
    return [f for f in files if f.complete and all(s.outcome == "ok" for s in f.scenarios)]


def _rounds(results: ResultsFile) -> list[dict[str, tuple[RunResult, ...]]]:
    """Each repeat of the file as one round: scenario name -> that round's runs (every strategy of the round)."""
    repeats = sorted({r.repeat for s in results.scenarios for p in s.points for r in p.runs})
    return [
        {s.scenario.name: tuple(r for p in s.points for r in p.runs if r.repeat == n) for s in results.scenarios}
        for n in repeats
    ]


def _built(template: ResultsFile, rounds: Sequence[dict[str, tuple[RunResult, ...]]]) -> ResultsFile:
    """``template`` holding ``rounds`` (renumbered 0, 1, ...) in place of its own runs."""
    scenarios = []
    for s in template.scenarios:
        runs = tuple(r.model_copy(update={"repeat": n}) for n, one in enumerate(rounds) for r in one[s.scenario.name])
        point = s.points[0].model_copy(update={"runs": runs})
        scenarios.append(s.model_copy(update={"points": (point,)}))
    return template.model_copy(update={"scenarios": tuple(scenarios)})


def _like(results: ResultsFile, template: ResultsFile) -> ResultsFile:
    """``results`` described by ``template``'s scenario definitions (a code regression keeps the definition)."""
    defined = {s.scenario.name: s for s in template.scenarios}
    scenarios = tuple(
        s.model_copy(update={"scenario": defined[s.scenario.name].scenario, "file": defined[s.scenario.name].file})
        for s in results.scenarios
    )
    return results.model_copy(update={"scenarios": scenarios})


def _draw(files: Sequence[ResultsFile], repeats: int, rng: random.Random) -> tuple[ResultsFile, list[int]]:
    """``repeats`` real rounds from as few whole files as hold them (drawn at random); the files used."""
    per_file = len(_rounds(files[0]))
    count = -(-repeats // per_file)
    chosen = rng.sample(range(len(files)), count)
    pool = [one for i in chosen for one in _rounds(files[i])]
    return _built(files[chosen[0]], rng.sample(pool, repeats)), chosen


def decisions(
    base_files: Sequence[ResultsFile],
    new_files: Sequence[ResultsFile],
    repeats: int,
    tolerance: float,
    trials: int,
    seed: int,
) -> dict[str, int]:
    """How often the gate (``judge``) exits 0, 1 (fail) or 4 (inconclusive) over ``trials`` baseline/new pairs
    drawn from disjoint files."""
    rng = random.Random(seed)
    codes: dict[str, int] = {"pass": 0, "fail": 0, "inconclusive": 0}
    same = base_files is new_files
    for _ in range(trials):
        baseline, used = _draw(base_files, repeats, rng)
        rest = [f for i, f in enumerate(new_files) if not (same and i in used)]
        current, _ = _draw(rest, repeats, rng)
        code = judge(_like(current, baseline), baseline, tolerance=tolerance).code
        codes[{0: "pass", 1: "fail", INCONCLUSIVE: "inconclusive"}.get(code, f"exit {code}")] += 1
    return codes


def measured_drop(fast: Sequence[ResultsFile], slow: Sequence[ResultsFile]) -> dict[str, float]:
    """Median over files of each strategy's median speedup, slow / fast - 1: the real drop the slow work made."""

    def speedups(files: Sequence[ResultsFile]) -> dict[str, float]:
        by: dict[str, list[float]] = {}
        for results in files:
            for row in summarise(results.scenarios[0]):
                if row.speedup is not None and row.name != "sequential":
                    by.setdefault(row.strategy, []).append(row.speedup)
        return {label: median(values) for label, values in by.items()}

    before, after = speedups(fast), speedups(slow)
    return {label: after[label] / before[label] - 1 for label in before}


def round_speedups(results: ResultsFile) -> list[dict[str, float]]:
    """Each round's paired speedups (sequential wall / strategy wall), by 'scenario/strategy', complete runs only."""
    out = []
    for one in _rounds(results):
        speedups = {}
        for name, runs in one.items():
            walls = {r.strategy: r.wall_ns for r in runs if r.complete}
            for label, wall in walls.items():
                if label != "sequential" and "sequential" in walls:
                    speedups[f"{name}/{label}"] = walls["sequential"] / wall
        out.append(speedups)
    return out


def _bootstrap_ci(values: np.ndarray, rng: np.random.Generator, resamples: int = 2000) -> tuple[float, float]:
    """bench.stats.bootstrap_ci, vectorised: percentile interval of the median, widened to hold the point."""
    point = float(np.median(values))
    medians = np.median(values[rng.integers(0, len(values), (resamples, len(values)))], axis=1)
    low, high = np.quantile(medians, [0.025, 0.975])
    return min(float(low), point), max(float(high), point)


def fast_decision(
    base: Sequence[dict[str, float]],
    new: Sequence[dict[str, float]],
    expect: dict[str, Threshold],
    tolerance: float,
    rng: np.random.Generator,
) -> str:
    """The gate's speedup checks (expectations and baseline) on per-round speedups, as ``judge`` makes them; the
    efficiency and error-rate checks are left out (no task failed in these files; efficiency never failed)."""
    outcomes = []
    for key in base[0]:
        before = np.array([r[key] for r in base])
        after = np.array([r[key] for r in new])
        figure, interval = float(np.median(after)), _bootstrap_ci(after, rng)
        floor = float(np.median(before)) * (1 - tolerance)
        outcomes.append(decide(Threshold(op=">=", value=floor, text=""), figure, interval))
        if key in expect:
            outcomes.append(decide(expect[key], figure, interval))
    return "fail" if "fail" in outcomes else "inconclusive" if "inconclusive" in outcomes else "pass"


def fast_decisions(
    base_files: Sequence[ResultsFile],
    new_files: Sequence[ResultsFile],
    repeats: int,
    tolerance: float,
    trials: int,
    seed: int,
) -> dict[str, int]:
    """``decisions`` through ``fast_decision``: rounds drawn the same way, from disjoint files."""
    rng, nrng = random.Random(seed), np.random.default_rng(seed)
    base_rounds = [round_speedups(f) for f in base_files]
    new_rounds = base_rounds if base_files is new_files else [round_speedups(f) for f in new_files]
    expect = {
        f"{s.scenario.name}/{label}": threshold
        for s in base_files[0].scenarios
        for label, threshold in s.scenario.expect.speedup.items()
    }
    per_file = len(base_rounds[0])
    count = -(-repeats // per_file)
    codes = {"pass": 0, "fail": 0, "inconclusive": 0}
    for _ in range(trials):
        chosen = rng.sample(range(len(base_rounds)), count)
        others = [i for i in range(len(new_rounds)) if not (base_files is new_files and i in chosen)]
        picked = rng.sample(others, count)
        base = rng.sample([r for i in chosen for r in base_rounds[i]], repeats)
        new = rng.sample([r for i in picked for r in new_rounds[i]], repeats)
        codes[fast_decision(base, new, expect, tolerance, nrng)] += 1
    return codes


def analyse(folder: Path, trials: int, settings: Sequence[tuple[int, float]], checked: int) -> list[str]:
    """The table: per (repeats, tolerance), false alarms on the shipped gate and the callable, power on the drop."""
    shipped, fast, slow = _load(folder, "shipped"), _load(folder, "fast"), _load(folder, "slow")
    drop = measured_drop(fast, slow)
    lines: list[str] = []

    def say(line: str) -> None:
        lines.append(line)
        print(line, flush=True)

    for line in [
        f"files: {len(shipped)} shipped, {len(fast)} fast, {len(slow)} slow ({SPIN_MS} ms of work per task)",
        "real change in median speedup, slow vs fast: " + ", ".join(f"{k} {v:+.1%}" for k, v in drop.items()),
    ]:
        say(line)
    if checked:
        full = [decisions(shipped, shipped, 5, 0.25, checked, seed=9), decisions(fast, slow, 5, 0.25, checked, seed=9)]
        say(f"judge() itself at 5 repeats, 25%, {checked} decisions: shipped {full[0]}; drop {full[1]}")
    say(f"{trials} decisions per cell: fail / inconclusive")
    say("repeats  tolerance  same code (shipped)  same code (callable)  10% drop (callable)")
    for repeats, tolerance in settings:
        cells = [
            fast_decisions(a, b, repeats, tolerance, trials, seed)
            for seed, (a, b) in enumerate(((shipped, shipped), (fast, fast), (fast, slow)))
        ]
        text = [f"{c['fail']:>4} / {c['inconclusive']:<4}" for c in cells]
        say(f"{repeats:>7}  {tolerance:>9.0%}  {text[0]:<19}  {text[1]:<20}  {text[2]}")
    return lines


SETTINGS = ((5, 0.25), (5, 0.05), (10, 0.05), (20, 0.05), (30, 0.05), (40, 0.05), (30, 0.03), (40, 0.03))
"""(repeats, tolerance) pairs analysed: the shipped defaults first."""


def main(argv: list[str] | None = None) -> int:
    """``collect`` or ``analyse``; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m bench.perf.gate_power")
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect")
    c.add_argument("folder", type=Path)
    c.add_argument("--runs", type=int, default=16)
    c.add_argument("--repeats", type=int, default=5)
    c.add_argument("--start", type=int, default=0, help="number of the first run (to add runs to a folder)")
    a = sub.add_parser("analyse")
    a.add_argument("folder", type=Path)
    a.add_argument("--trials", type=int, default=400)
    a.add_argument("--checked", type=int, default=40, help="decisions made by judge() itself at the defaults")
    args = parser.parse_args(argv)
    if args.command == "collect":
        collect(args.folder, args.runs, args.repeats, args.start)
    else:
        analyse(args.folder, args.trials, SETTINGS, args.checked)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
