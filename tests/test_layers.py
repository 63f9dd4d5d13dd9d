"""The house keeps its shape: imports flow one way (``cli`` -> ``demo`` -> library -> ``verifiers`` -> ``sandbox``).

Read from the source with ``ast`` (every ``import``, including those inside functions, which is where the heavy ones
live), so a wrong-way import fails here even when no test happens to execute the line that makes it:

- no module under ``rlvr/`` outside ``rlvr/cli/`` imports the command layer (``rlvr/__main__.py`` is ``python -m
  rlvr``, a command itself);
- only the command layer imports the demo recipe (``rlvr.demo``);
- ``rlvr/verifiers/`` imports nothing from the engine (scoring, rewards, tasks, trainer...) and no torch, trl or
  transformers: verifiers are pure and run in light worker processes;
- the graph of imports between rlvr's modules has no cycle.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(REPO, "rlvr")
ENGINE = ("rlvr.scoring", "rlvr.rewards", "rlvr.tasks", "rlvr.trainer", "rlvr.train", "rlvr.eval", "rlvr.callbacks")
HEAVY = ("torch", "trl", "transformers", "accelerate")


def module_files() -> dict[str, str]:
    """{module name: path} for every .py file under rlvr/."""
    found = {}
    for folder, _, names in os.walk(PACKAGE):
        for name in names:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                parts = os.path.relpath(path, REPO)[: -len(".py")].split(os.sep)
                found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports_of(path: str, module: str, known: set[str]) -> set[str]:
    """Every module ``path`` imports, anywhere in the file; ``from pkg import name`` counts ``pkg.name`` when that is
    a module of ours (``from rlvr import demo``)."""
    is_package = path.endswith("__init__.py")
    out: set[str] = set()
    for node in ast.walk(ast.parse(open(path, encoding="utf-8").read(), path)):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, module, is_package)
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known)
    return out


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    anchor = parts if is_package else parts[:-1]
    anchor = anchor[: len(anchor) - (node.level - 1)]
    return ".".join(anchor + ([node.module] if node.module else []))


def graph() -> dict[str, set[str]]:
    files = module_files()
    known = set(files)
    return {m: imports_of(p, m, known) - {m} for m, p in files.items()}  # a package importing its own modules


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_checker_sees_lazy_and_relative_imports(tmp_path):
    source = "from . import base\nfrom .. import scoring\n\ndef f():\n    import torch\n    from rlvr import demo\n"
    path = tmp_path / "m.py"
    path.write_text(source)
    found = imports_of(str(path), "rlvr.verifiers.m", {"rlvr.demo", "rlvr.scoring", "rlvr.verifiers.base"})
    assert {"rlvr.verifiers.base", "rlvr.scoring", "torch", "rlvr.demo"} <= found


def test_library_never_imports_the_command_layer():
    wrong = {
        (m, i)
        for m, deps in graph().items()
        if not _within(m, ("rlvr.cli", "rlvr.__main__"))
        for i in deps
        if _within(i, ("rlvr.cli",))
    }
    assert not wrong, f"library modules importing rlvr.cli: {sorted(wrong)}"


def test_only_the_command_layer_imports_the_demo_recipe():
    wrong = {
        (m, i)
        for m, deps in graph().items()
        if not _within(m, ("rlvr.cli", "rlvr.demo"))
        for i in deps
        if i == "rlvr.demo"
    }
    assert not wrong, f"modules importing rlvr.demo outside rlvr.cli: {sorted(wrong)}"


def test_verifiers_import_nothing_from_the_engine_and_no_torch():
    wrong = {
        (m, i)
        for m, deps in graph().items()
        if _within(m, ("rlvr.verifiers",))
        for i in deps
        if _within(i, ENGINE + HEAVY + ("rlvr.cli", "rlvr.demo"))
    }
    assert not wrong, f"rlvr.verifiers importing the engine or a heavy library: {sorted(wrong)}"


def test_no_import_cycle_between_rlvr_modules():
    imports = graph()
    cycle = _find_cycle({m: deps & set(imports) for m, deps in imports.items()})
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def _find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A cycle as a list of modules (first == last), or None; iterative depth-first search."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(edges):
        if state.get(start):
            continue
        path, stack = [start], [iter(sorted(edges[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(edges[nxt])))
    return None


def test_find_cycle_finds_one_and_only_one():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch not installed")
def test_grading_saved_generations_does_not_import_torch():
    """``rlvr eval --completions`` needs no model: importing its command and the protocol must not pull in torch."""
    probe = (
        "import sys, rlvr.cli.main, rlvr.cli.eval, rlvr.eval, rlvr.cli.score\n"
        "print(sorted(set(sys.modules) & {'torch', 'transformers', 'trl'}))"
    )
    env = {**os.environ, "PYTHONPATH": REPO}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
