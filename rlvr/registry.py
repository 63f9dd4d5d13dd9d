"""Name -> object registries for verifiers, tasks and policy losses.

One small mechanism serves all three: a decorator that fails fast on a duplicate name, a lookup that names the
known entries when it misses, and third-party plugins discovered through Python entry points (groups
``rlvr.verifiers``, ``rlvr.tasks`` and ``rlvr.losses``). A plugin package declares, in its pyproject.toml::

    [project.entry-points."rlvr.verifiers"]
    my_checker = "my_pkg.checkers:MyChecker"

and ``rlvr.get_verifier("my_checker")`` finds it without any import on the user's side.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class RegistryError(KeyError):
    """A name is unknown, taken twice, or malformed."""

    def __str__(self) -> str:  # KeyError would print the message quoted
        return str(self.args[0]) if self.args else ""


class DuplicateNameError(RegistryError):
    pass


class UnknownNameError(RegistryError):
    pass


class Registry(Generic[T]):
    """A strict name -> object map with entry-point discovery."""

    def __init__(self, kind: str, group: str, builtins: tuple[str, ...] = ()) -> None:
        self.kind = kind
        self.group = group
        self.builtins = builtins  # modules imported on first lookup; importing them registers the built-in entries
        self._items: dict[str, T] = {}
        self._plugins_loaded = False
        self._lock = threading.RLock()

    def register(self, name: str, obj: T | None = None, *, replace: bool = False) -> Callable[[T], T] | T:
        """Register ``obj`` under ``name``; used bare it is a decorator. A taken name is an error unless ``replace``."""
        if not _NAME.match(name):
            raise RegistryError(f"{self.kind} name {name!r} must be lowercase snake_case (e.g. 'math500')")

        def add(target: T) -> T:
            with self._lock:
                if name in self._items and not replace and self._items[name] is not target:
                    raise DuplicateNameError(
                        f"a {self.kind} named {name!r} is already registered ({_describe(self._items[name])}); "
                        f"pick another name or pass replace=True"
                    )
                self._items[name] = target
            return target

        return add(obj) if obj is not None else add

    def get(self, name: str) -> T:
        with self._lock:
            if name not in self._items:
                self._load_plugins()
            if name not in self._items:
                known = ", ".join(sorted(self._items)) or "none"
                raise UnknownNameError(f"unknown {self.kind} {name!r}; known {self.kind}s: {known}")
            return self._items[name]

    def names(self) -> list[str]:
        with self._lock:
            self._load_plugins()
            return sorted(self._items)

    def items(self) -> Iterator[tuple[str, T]]:
        for name in self.names():
            yield name, self._items[name]

    def __contains__(self, name: object) -> bool:
        with self._lock:
            self._load_plugins()
            return name in self._items

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        import importlib

        for module in self.builtins:
            importlib.import_module(module)
        for ep in entry_points(group=self.group):
            if ep.name in self._items:
                continue  # the plugin module registered itself on import, or a built-in owns the name
            try:
                obj = ep.load()
            except Exception as exc:  # a broken plugin must not take the built-ins down with it
                import warnings

                warnings.warn(f"could not load {self.kind} plugin {ep.name!r} ({ep.value}): {exc}", stacklevel=2)
                continue
            if ep.name not in self._items:
                self.register(ep.name, obj)


def _describe(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', type(obj).__name__)}"


def first_line(obj: Any) -> str:
    """The first line of an object's docstring: the one-line description that `rlvr verifiers` and `rlvr tasks` print."""
    doc = (getattr(obj, "__doc__", None) or "").strip()
    return doc.splitlines()[0].strip() if doc else ""
