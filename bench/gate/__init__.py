"""The gate: expectations and baselines judged by the interval rule (``check``, ``rule``, ``expect``,
``baseline``, ``format``), two results files side by side (``compare``, ``comparable``) and speedups across
runs (``history``). Pure: verdicts and lines in, the CLI prints them.

    from bench.gate import judge
    gate = judge(results, baseline, tolerance=0.05)   # verdicts, warnings, problems, exit code
"""

from bench.gate.check import Gate, judge
from bench.gate.compare import compare
from bench.gate.rule import Verdict

__all__ = ["Gate", "Verdict", "compare", "judge"]
