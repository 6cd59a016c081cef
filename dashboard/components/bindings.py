"""A state's vars and event handlers, read on the class, as the types Reflex gives them at runtime.

mypy sees `SomeState.rows` as the Python list it holds and an `@rx.event` handler as `rx.event` itself (it reads
the decorator's `__new__` as returning an EventNamespace); Reflex hands the page a Var and an EventHandler. These
functions check that at runtime (when the page is compiled) and give mypy the real type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reflex_base.event import EventHandler
from reflex_base.vars import ArrayVar, ObjectVar, StringVar


def event(member: object) -> EventHandler:
    """A state's event handler, to be called with its arguments: `event(State.open)(row["id"])`."""
    if not isinstance(member, EventHandler):
        raise TypeError(f"not an event handler: {member!r}")
    return member


def array(member: object) -> ArrayVar[Sequence[Any]]:
    """A state's list var (for `.length()`, `.contains()`)."""
    if not isinstance(member, ArrayVar):
        raise TypeError(f"not a list var: {member!r}")
    return member


def mapping(member: object) -> ObjectVar[Mapping[str, Any]]:
    """A state's dict var."""
    if not isinstance(member, ObjectVar):
        raise TypeError(f"not a dict var: {member!r}")
    return member


def text(member: object) -> StringVar[str]:
    """A state's str var."""
    if not isinstance(member, StringVar):
        raise TypeError(f"not a str var: {member!r}")
    return member

# One row of a state's list of dicts of str, as rx.foreach hands it to a render function.
Row = ObjectVar[dict[str, str]]
