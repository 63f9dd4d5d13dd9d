"""``rlvr eval``: benchmark a checkpoint, or grade saved generations, with one protocol (``rlvr.eval``).

    rlvr eval --model Qwen/Qwen2.5-Math-1.5B-Instruct --benchmarks math500,aime24 --samples 8 --temperature 0.6
    rlvr eval --completions api_outputs.jsonl            # rows: id, reference, completions (a list)

Outputs, under ``--output-dir``: ``results.json``, ``<benchmark>/samples.jsonl``, ``<benchmark>/settings.json``,
``results.png``, and a table on stdout. An interrupted run re-run with the same command resumes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from rlvr.cli.flags import non_negative, positive_int, probability

DEFAULT_BENCHMARKS = "math500,aime24,aime25,amc23,gsm8k"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rlvr eval",
        description="Evaluate a checkpoint on benchmarks (--model) or grade existing generations (--completions).",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", help="local checkpoint folder or hub id")
    src.add_argument("--completions", help="JSONL rows with id, reference, completions (a list); no model needed")
    p.add_argument(
        "--benchmarks", default=DEFAULT_BENCHMARKS, help=f"comma-separated task names (default: {DEFAULT_BENCHMARKS})"
    )
    p.add_argument("--samples", type=positive_int, default=1, help="completions per problem, k (default 1)")
    p.add_argument("--temperature", type=non_negative, default=0.0, help="0 = greedy (default)")
    p.add_argument("--top-p", type=probability, default=1.0)
    p.add_argument("--max-tokens", type=positive_int, default=1024, help="new tokens per completion")
    p.add_argument("--limit", type=positive_int, default=None, help="first N problems of each benchmark")
    p.add_argument("--data-dir", default=None, help="local benchmark folder laid out like shared/data (default: hub)")
    p.add_argument("--output-dir", default="runs/eval", help="where results.json and samples go (default runs/eval)")
    p.add_argument("--backend", choices=("auto", "vllm", "hf"), default="auto", help="auto: vLLM when usable, else hf")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--batch-size",
        type=positive_int,
        default=None,
        help="hf: sequences per generate() call (default 32); vllm: problems per call (default 256)",
    )
    p.add_argument("--verifier", default=None, help="grader for --completions (default math); tasks use their own")
    p.add_argument("--name", default=None, help="benchmark name for --completions (default: the file's stem)")
    p.add_argument("--workers", type=positive_int, default=None, help="grader processes (default: one per core)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--no-plot", action="store_true", help="skip results.png")
    return p


def run(argv: list[str]) -> int:
    from rlvr.eval import format_table, plot_results, run_completions, run_model, write_results

    args = parser().parse_args(argv)
    try:
        results = run_completions(args) if args.completions else run_model(args)
    except KeyboardInterrupt:
        print(
            f"rlvr eval: interrupted; finished problems are saved under {args.output_dir}; "
            "run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    print(format_table(results))
    path = write_results(args.output_dir, results)
    print(f"results: {path}", file=sys.stderr)
    if not args.no_plot:
        with open(path, encoding="utf-8") as f:
            everything = json.load(f)
        title = f"rlvr eval: {args.model or os.path.basename(args.completions)}"
        print(
            f"chart: {plot_results(everything, os.path.join(args.output_dir, 'results.png'), title)}", file=sys.stderr
        )
    return 0
