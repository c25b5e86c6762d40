"""The gate's power and false-alarm rate, measured on this machine from real runs.

    python -m bench.perf.gate_power collect DIR --runs 12     # real `iobench run` results files (about 40 minutes)
    python -m bench.perf.gate_power analyse DIR               # many gate decisions by resampling their rounds

``collect`` runs, in interleaved order, (a) the shipped ``scenarios/gate`` and (b) two copies of its gate-sleep
scenario on a callable target, with the shipped repeat settings: ``sleep_then_work_0`` (the same sleep as
gate-sleep) and ``sleep_then_work_slow`` (the same, then SERIAL_MS of waiting that no other task can overlap: a
blocking ``time.sleep`` inside the coroutine, which stalls the event loop, and for threads the same sleep under a lock
all threads share; real regressions of the kind a blocking call in async code or a shared client behind a lock
make). With 10 tasks of 100 ms it lengthens taskgroup's and threads' runs by 10 x SERIAL_MS while sequential grows by
about 1%, so their speedups drop by about 10%. The wait is a precise blocking sleep, not CPU work or an asyncio
timer, so the drop does not grow with the machine's load (CPU work of 1.25 ms per task cost 10% on a quiet machine
and up to 20% under load here; a 1.2 ms asyncio.sleep under an asyncio.Lock cost 17%, its timer waking late).

``analyse`` makes gate decisions the way CI makes them, with ``judge`` itself: one baseline file and one new file per
decision, each scenario's rounds drawn one by one without replacement from the real rounds of a few real files and
stopped by the scenario's own stop rule (``bench.run.runner.precision_series`` and ``bench.results.stats.StopRule``, its
time budget counted as the sum of the drawn runs' wall times), so ``repeats: auto`` is resampled as it runs. A round
keeps its sequential and its other strategies together (the pairing is real); baseline and new rounds come from disjoint
files made at different times, so load changes between runs are in the noise. A decision fails when the exit code is 1:

- false alarm: baseline and new both from (a), or both from the callable (b) without work;
- power: baseline from (b) without work, new from (b) with work (the definition hash is set equal, as it is when
  code, not the scenario, regressed).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import yaml

from bench.gate.check import INCONCLUSIVE, judge
from bench.results.files import read_results
from bench.results.records import ResultsFile, RunResult
from bench.results.stats import StopRule, median
from bench.results.summary import summarise
from bench.run.runner import precision_series
from bench.scenario.loader import load_paths
from bench.scenario.model import Scenario

SERIAL_MS = float(os.environ.get("GATE_POWER_SERIAL_MS", "1.2"))
"""Waiting per task that no other task overlaps in the slow configuration, ms (about a 10% drop with 10 tasks of 100 ms:
(10 x 101.2 / (100 + 10 x 1.2)) / 10 - 1 = -9.6% before timer lateness, which adds to each wait)."""
SHIPPED = Path(__file__).resolve().parents[2] / "scenarios" / "gate"
"""The shipped gate scenarios."""


def callable_gate(function: str) -> str:
    """The shipped gate-sleep scenario, its target replaced by ``function`` (and ``function_sync`` for threads).

    Its efficiency expectation goes (a callable has no ideal time); everything else, repeats included, is shipped.
    """
    data = yaml.safe_load((SHIPPED / "sleep.yaml").read_text(encoding="utf-8"))
    data["target"] = {
        "callable": f"bench.perf.gate_power:{function}",
        "sync_callable": f"bench.perf.gate_power:{function}_sync",
    }
    data.get("expect", {}).pop("efficiency", None)
    return f"# gate-sleep on a callable target (bench.perf.gate_power): {function}\n" + yaml.safe_dump(
        data, sort_keys=False
    )


_THREAD_LOCK = threading.Lock()


async def sleep_then_work_0(i: int) -> None:
    """100 ms of asyncio sleep (gate-sleep's delay)."""
    await asyncio.sleep(0.100)


def sleep_then_work_0_sync(i: int) -> None:
    """100 ms of blocking sleep."""
    time.sleep(0.100)


async def sleep_then_work_slow(i: int) -> None:
    """100 ms of asyncio sleep, then SERIAL_MS of blocking sleep that stalls the event loop (no task overlaps it)."""
    await asyncio.sleep(0.100)
    time.sleep(SERIAL_MS / 1000)


def sleep_then_work_slow_sync(i: int) -> None:
    """100 ms of blocking sleep, then SERIAL_MS of sleep holding a lock all threads share."""
    time.sleep(0.100)
    with _THREAD_LOCK:
        time.sleep(SERIAL_MS / 1000)


def _iobench(args: Sequence[str]) -> None:
    command = [sys.executable, "-m", "bench", "run", *args, "--no-plots", "-q"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()}")


def _load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def collect(folder: Path, runs: int, start: int = 0, kinds: Sequence[str] = ("shipped", "fast", "slow")) -> None:
    """Real results files: DIR/shipped-NN.json, DIR/fast-NN.json, DIR/slow-NN.json, interleaved; the load average
    before each is printed."""
    folder.mkdir(parents=True, exist_ok=True)
    for kind, function in (("fast", "sleep_then_work_0"), ("slow", "sleep_then_work_slow")):
        scenario = folder / kind / "gate-sleep.yaml"
        scenario.parent.mkdir(exist_ok=True)
        scenario.write_text(callable_gate(function), encoding="utf-8")
    for n in range(start, start + runs):
        order = list(kinds)
        random.Random(n).shuffle(order)
        for kind in order:
            source = str(SHIPPED) if kind == "shipped" else str(folder / kind)
            started, load = time.monotonic(), _load_average()
            _iobench([source, "-o", str(folder / f"{kind}-{n:02d}.json"), "--results-dir", str(folder / "out")])
            took = time.monotonic() - started
            print(f"{kind}-{n:02d}: {took:.1f} s, load average {load} (serialised wait {SERIAL_MS} ms)", flush=True)


# --- analyse ------------------------------------------------------------------------------------------

Rounds = dict[str, list[tuple[RunResult, ...]]]
"""Scenario name -> its rounds in one file, each round the runs of one repeat (every strategy of the round)."""


def _load(folder: Path, kind: str) -> list[ResultsFile]:
    """The complete results files of one kind (a file still being written is skipped)."""
    files = [read_results(path) for path in sorted(folder.glob(f"{kind}-*.json"))]
    return [f for f in files if f.complete and all(s.outcome == "ok" for s in f.scenarios)]


def _rounds(results: ResultsFile) -> Rounds:
    """Each scenario's repeats in the file, one tuple of runs per repeat."""
    out: Rounds = {}
    for s in results.scenarios:
        runs = [r for p in s.points for r in p.runs]
        out[s.scenario.name] = [tuple(r for r in runs if r.repeat == n) for n in sorted({r.repeat for r in runs})]
    return out


def stop_rule(scenario: Scenario) -> StopRule | None:
    """The runner's stop rule for ``scenario`` (None for a fixed number of rounds)."""
    adaptive = scenario.adaptive
    if adaptive is None:
        return None
    return StopRule(adaptive.precision, adaptive.min_repeats, adaptive.max_repeats, adaptive.budget_s)


ROUND_OVERHEAD = 1.2
"""Real time of a round / the sum of its runs' wall times (shipped-00 here: gate-http's 36 rounds, 48.9 s of timed
runs, stopped by its 60 s budget): what the stop rule's time budget is counted in when rounds are resampled."""


def draw_rounds(pool: Sequence[tuple[RunResult, ...]], scenario: Scenario, rng: random.Random) -> list[RunResult]:
    """Rounds of ``pool`` in random order, as many as the scenario would run: ``repeats``, or under ``repeats: auto``
    until its stop rule stops (elapsed: the drawn runs' wall times x ROUND_OVERHEAD), renumbered 0, 1, ..."""
    order = rng.sample(list(pool), len(pool))
    rule = stop_rule(scenario)
    runs: list[RunResult] = []
    elapsed_s = 0.0
    fixed = scenario.repeats if isinstance(scenario.repeats, int) else None
    for n, one in enumerate(order):
        runs += [r.model_copy(update={"repeat": n}) for r in one]
        elapsed_s += sum(r.wall_ns for r in one) / 1e9 * ROUND_OVERHEAD
        done = n + 1
        if fixed is not None and done >= fixed:
            return runs
        if rule is not None and rule.check(precision_series(runs), done, elapsed_s) is not None:
            return runs
    raise ValueError(f"{scenario.name}: the pool holds {len(pool)} rounds, too few to resample one run")


def _draw(
    files: Sequence[ResultsFile], per_draw: int, rng: random.Random, rules: dict[str, Scenario] | None = None
) -> tuple[ResultsFile, list[int]]:
    """One resampled run: each scenario's rounds drawn from ``per_draw`` files chosen at random, as many as the
    scenario in ``rules`` (default: the file's own) would run; the files used."""
    chosen = rng.sample(range(len(files)), per_draw)
    template = files[chosen[0]]
    pools: Rounds = {}
    for i in chosen:
        for name, rounds in _rounds(files[i]).items():
            pools.setdefault(name, []).extend(rounds)
    scenarios = []
    for s in template.scenarios:
        runs = tuple(draw_rounds(pools[s.scenario.name], (rules or {}).get(s.scenario.name, s.scenario), rng))
        point = s.points[0].model_copy(update={"runs": runs})
        scenarios.append(s.model_copy(update={"points": (point,)}))
    return template.model_copy(update={"scenarios": tuple(scenarios)}), chosen


def _like(results: ResultsFile, template: ResultsFile) -> ResultsFile:
    """``results`` described by ``template``'s scenario definitions (a code regression keeps the definition)."""
    defined = {s.scenario.name: s for s in template.scenarios}
    scenarios = tuple(
        s.model_copy(
            update={
                "scenario": defined[s.scenario.name].scenario,
                "file": defined[s.scenario.name].file,
                "definition_hash": defined[s.scenario.name].definition_hash,
            }
        )
        for s in results.scenarios
    )
    return results.model_copy(update={"scenarios": scenarios})


def decisions(
    base_files: Sequence[ResultsFile],
    new_files: Sequence[ResultsFile],
    tolerance: float,
    trials: int,
    seed: int,
    per_draw: int = 2,
    rules: dict[str, Scenario] | None = None,
) -> tuple[dict[str, int], list[float]]:
    """How often ``judge`` exits 0 (pass), 1 (fail) or 4 (inconclusive) over ``trials`` baseline/new pairs drawn
    from disjoint files (repeats as ``rules`` run them); and the rounds each resampled run took."""
    rng = random.Random(seed)
    codes: dict[str, int] = {"pass": 0, "fail": 0, "inconclusive": 0}
    rounds: list[float] = []
    same = base_files is new_files
    for _ in range(trials):
        baseline, used = _draw(base_files, per_draw, rng, rules)
        rest = [f for i, f in enumerate(new_files) if not (same and i in used)]
        current, _ = _draw(rest, per_draw, rng, rules)
        rounds += [len({r.repeat for p in s.points for r in p.runs}) for f in (baseline, current) for s in f.scenarios]
        code = judge(_like(current, baseline), baseline, tolerance=tolerance).code
        codes[{0: "pass", 1: "fail", INCONCLUSIVE: "inconclusive"}.get(code, f"exit {code}")] += 1
    return codes, rounds


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


def _share(count: int, total: int) -> str:
    return f"{count} of {total} ({count / total:.1%})" if total else "none"


def analyse(folder: Path, trials: int, tolerances: Sequence[float]) -> list[str]:
    """The table: per tolerance, false alarms on the shipped gate and the callable, power on the drop."""
    shipped, fast, slow = _load(folder, "shipped"), _load(folder, "fast"), _load(folder, "slow")
    rules = {s.name: s for _, s in load_paths([SHIPPED])}  # the shipped repeat settings, whatever the files ran
    drop = measured_drop(fast, slow)
    lines: list[str] = []

    def say(line: str) -> None:
        lines.append(line)
        print(line, flush=True)

    say(f"files: {len(shipped)} shipped, {len(fast)} fast, {len(slow)} slow ({SERIAL_MS} ms serialised per task)")
    say("real change in median speedup, slow vs fast: " + ", ".join(f"{k} {v:+.1%}" for k, v in drop.items()))
    say(f"{trials} decisions by judge() per cell: fail (inconclusive); rounds per resampled scenario run")
    say("tolerance  same code (shipped gate)       same code (callable)          10% drop (callable)")
    for tolerance in tolerances:
        cells = []
        for seed, (a, b) in enumerate(((shipped, shipped), (fast, fast), (fast, slow))):
            codes, rounds = decisions(a, b, tolerance, trials, seed, rules=rules)
            spread = f"rounds {min(rounds):.0f}-{median(rounds):.0f}-{max(rounds):.0f}"
            cells.append(f"{_share(codes['fail'], trials)} ({codes['inconclusive']}) {spread}")
        say(f"{tolerance:>9.0%}  " + "  ".join(f"{c:<28}" for c in cells))
    return lines


TOLERANCES = (0.05, 0.03, 0.07)
"""Tolerances analysed: ``make check``'s first."""


def main(argv: list[str] | None = None) -> int:
    """``collect`` or ``analyse``; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m bench.perf.gate_power")
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect")
    c.add_argument("folder", type=Path)
    c.add_argument("--runs", type=int, default=12)
    c.add_argument("--start", type=int, default=0, help="number of the first run (to add runs to a folder)")
    c.add_argument("--kinds", default="shipped,fast,slow", help="which runs to make (comma-separated)")
    a = sub.add_parser("analyse")
    a.add_argument("folder", type=Path)
    a.add_argument("--trials", type=int, default=400)
    args = parser.parse_args(argv)
    if args.command == "collect":
        collect(args.folder, args.runs, args.start, args.kinds.split(","))
    else:
        analyse(args.folder, args.trials, TOLERANCES)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
