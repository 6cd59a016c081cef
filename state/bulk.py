"""The bulk selection the Drift events list and the incident list share: rows ticked one by one, the whole page,
or every row matching the filters (on every page), and the sentence that reports a confirmed change.

The lists keep two vars, the ticked ids (a list of str) and `all_matching`; these functions give their next values.
`ask` and `confirm` are the two steps of a change (the confirmation, then the change), on a list's state with the vars
of `BulkList`. The component is `dashboard.components.bulk`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from models.db import session_scope
from models.errors import Invalid, NotFound

SCOPES = ("page", "matching", "none")


def toggled(ticked: Sequence[str], row_id: str) -> list[str]:
    """`ticked` with `row_id` flipped (a tick by hand ends a filter-wide choice: the caller clears it)."""
    return [i for i in ticked if i != row_id] if row_id in ticked else [*ticked, row_id]


def scoped(scope: str, page_ids: Sequence[str], ticked: Sequence[str]) -> tuple[list[str], bool]:
    """(ticked, all_matching) after choosing a scope: "page" ticks every row shown (or unticks them when all are),
    "matching" takes every row matching the filters, anything else clears."""
    if scope == "page":
        return ([] if set(page_ids) <= set(ticked) else list(page_ids)), False
    if scope == "matching":
        return list(page_ids), True
    return [], False


def whole_page(page_ids: Sequence[str], ticked: Sequence[str]) -> bool:
    """Whether every row of a non-empty page is ticked."""
    return bool(page_ids) and set(page_ids) <= set(ticked)


def outcome(noun: str, status: str, changed: int, counted: int, all_matching: bool) -> str:
    """What a confirmed change did: a filter-wide one skips the rows already in that status, and says so."""
    label = status.replace("_", " ")
    unchanged = counted - changed if all_matching else 0
    return f"{changed:,} {noun} marked {label}." + (
        f" The other {unchanged:,} already were {label}." if unchanged > 0 else "")


class BulkList(Protocol):
    """The vars a list's state keeps for a bulk change (beside its ticked ids, whose name differs per list)."""

    all_matching: bool
    # how many rows the pending change touches (the confirmation's count)
    bulk_count: int
    pending_bulk: str
    message: str
    # the highest id the confirmed count covered (rows arriving later are not changed)
    _bulk_upto: int


async def ask(state: BulkList, status: str, ticked: Sequence[str], *, statuses: Sequence[str], noun: str,
              count_matching: Callable[[AsyncSession], Awaitable[tuple[int, int]]]) -> None:
    """Start a change to `status` with its confirmation: the count of the ticked rows, or for a filter-wide one the
    count (and highest id) `count_matching` reads now. A refused status, nothing chosen or bad filters: a message."""
    if status not in statuses or not (ticked or state.all_matching):
        state.message = f"Tick some {noun} first (or select all matching the filters)."
        return
    state.bulk_count = len(ticked)
    if state.all_matching:
        try:
            async with session_scope() as session:
                state.bulk_count, state._bulk_upto = await count_matching(session)
        except Invalid as exc:
            state.message = exc.message
            return
    state.pending_bulk = status


async def confirm(state: BulkList, ticked_var: str, *, noun: str,
                  change_matching: Callable[[AsyncSession, str], Awaitable[int]],
                  change_ticked: Callable[[AsyncSession, str], Awaitable[int]],
                  reload: Callable[[], Awaitable[None]], statuses: Sequence[str] | None = None) -> None:
    """Apply the pending status (refused outside `statuses`, when given): `change_matching` for a filter-wide change,
    else `change_ticked`, each given the session and the status and answering how many rows changed. Then the
    selection (the var named `ticked_var` and `all_matching`) clears, the page is read again and the outcome said."""
    status, state.pending_bulk = state.pending_bulk, ""
    if statuses is not None and status not in statuses:
        state.message = "Choose a status for the change first."
        return
    try:
        async with session_scope() as session:
            change = change_matching if state.all_matching else change_ticked
            changed = await change(session, status)
    except (NotFound, Invalid) as exc:
        state.message = exc.message
        return
    message = outcome(noun, status, changed, state.bulk_count, state.all_matching)
    setattr(state, ticked_var, [])
    state.all_matching = False
    await reload()
    state.message = message
