"""``rlvr sandbox build | check``: build the Docker sandbox image for the ``code`` verifier, or check that it works."""

from __future__ import annotations

import argparse
import subprocess
import sys


def parser() -> argparse.ArgumentParser:
    from rlvr.sandbox import DEFAULT_IMAGE

    p = argparse.ArgumentParser(prog="rlvr sandbox", description="Build or check the Docker sandbox for `code`.")
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    b = sub.add_parser("build", help="build the sandbox image (offline from Debian packages unless --base is given)")
    b.add_argument("--image", default=DEFAULT_IMAGE, help="tag to build (default: %(default)s)")
    b.add_argument("--base", default=None, help="registry base image, e.g. python:3.11-slim-bookworm (needs a pull)")
    c = sub.add_parser("check", help="does the daemon answer, does the image exist, does a job round-trip?")
    c.add_argument("--image", default=DEFAULT_IMAGE, help="image to check (default: %(default)s)")
    return p


def run(argv: list[str]) -> int:
    from rlvr.sandbox import SandboxUnavailable, build_image, check

    args = parser().parse_args(argv)
    if args.action == "build":
        try:
            print(build_image(args.image, args.base))
        except (SandboxUnavailable, subprocess.CalledProcessError) as exc:
            print(f"rlvr sandbox build: error: {exc}", file=sys.stderr)
            return 1
        return 0
    results = check(args.image)
    for what, ok, detail in results:
        print(f"{'ok ' if ok else 'FAIL'} {what:<10} {detail}")
    return 0 if all(ok for _, ok, _ in results) and len(results) == 3 else 1
