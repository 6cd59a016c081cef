"""The bulk selection the Drift events list and the incident list share: rows ticked one by one, the whole page,
or every row matching the filters (on every page), and the sentence that reports a confirmed change.

The lists keep two vars, the ticked ids (a list of str) and `all_matching`; these functions give their next values.
The component is `dashboard.components.bulk`.
"""

from __future__ import annotations

from collections.abc import Sequence

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
