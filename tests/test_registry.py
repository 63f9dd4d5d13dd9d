"""The registry: strict names, fail-fast duplicates, lookups that name the known entries, entry-point plugins."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from importlib.metadata import EntryPoint

import pytest

import rlvr
from rlvr.registry import DuplicateNameError, Registry, RegistryError, UnknownNameError


def test_duplicate_name_is_an_error():
    reg: Registry[object] = Registry("widget", "rlvr.test_widgets")
    reg.register("a", object())
    with pytest.raises(DuplicateNameError, match="already registered"):
        reg.register("a", object())


def test_replace_allows_redefinition():
    reg: Registry[int] = Registry("widget", "rlvr.test_widgets")
    reg.register("a", 1)
    reg.register("a", 2, replace=True)
    assert reg.get("a") == 2


def test_unknown_name_lists_known():
    reg: Registry[int] = Registry("widget", "rlvr.test_widgets")
    reg.register("alpha", 1)
    with pytest.raises(UnknownNameError, match="unknown widget 'beta'; known widgets: alpha"):
        reg.get("beta")


def test_names_must_be_snake_case():
    reg: Registry[int] = Registry("widget", "rlvr.test_widgets")
    with pytest.raises(RegistryError, match="snake_case"):
        reg.register("Bad-Name", 1)


def test_builtin_verifiers_are_registered():
    names = rlvr.VERIFIERS.names()
    assert {"math", "format"} <= set(names)


def test_register_verifier_decorator_and_duplicate():
    @rlvr.register_verifier("test_always_one", replace=True)
    @dataclass(frozen=True)
    class AlwaysOne(rlvr.Verifier):
        """Always right."""

        def judge(self, extracted, reference):
            return rlvr.Verdict(1.0, "correct", extracted)

    assert rlvr.get_verifier("test_always_one")("x", None).reward == 1.0
    with pytest.raises(DuplicateNameError, match="already registered"):

        @rlvr.register_verifier("test_always_one")
        @dataclass(frozen=True)
        class Another(rlvr.Verifier):
            """Another verifier wanting the same name."""


def test_bad_verifier_options_name_the_accepted_ones():
    with pytest.raises(TypeError, match="it takes: pattern, fullmatch"):
        rlvr.get_verifier("format", patern="x")


def test_entry_point_plugins_are_discovered(tmp_path, monkeypatch):
    plugin = tmp_path / "my_rlvr_plugin.py"
    plugin.write_text(
        "from dataclasses import dataclass\n"
        "import rlvr\n"
        "@dataclass(frozen=True)\n"
        "class Shouty(rlvr.Verifier):\n"
        "    '''Correct when the answer is upper case.'''\n"
        "    def judge(self, extracted, reference):\n"
        "        return rlvr.Verdict(float(extracted.isupper()), 'correct' if extracted.isupper() else 'wrong')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    reg: Registry[type] = Registry("verifier", "rlvr.test_plugin_group")
    ep = EntryPoint(name="shouty", value="my_rlvr_plugin:Shouty", group="rlvr.test_plugin_group")
    monkeypatch.setattr(sys.modules["rlvr.registry"], "entry_points", lambda group: [ep] if group == ep.group else [])
    cls = reg.get("shouty")
    assert cls.__name__ == "Shouty" and cls()("HI", None).reward == 1.0
    assert "shouty" in reg.names()
