"""The benchmarks' own worked solutions (human-written, not ours) graded against their own answers: every MATH-500 and
AIME 2024 solution is correct, and every Minerva solution that is not is one labelled by hand in the benchmark script
(mostly solutions of another sub-problem of the same prompt)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import reference_solutions  # noqa: E402


def test_every_reference_solution_is_correct_or_explained(shared_data, capsys):
    assert reference_solutions.main(["--data", shared_data]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert "math500       500/500 correct" in out and "aime24        30/30 correct" in out
    minerva = next(line for line in out.splitlines() if line.startswith("minerva_math"))
    assert int(minerva.split()[1].split("/")[0]) >= 229, minerva
