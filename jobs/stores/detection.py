"""Detection state on disk: one tenant's `DetectionState` between `detect_incidents` runs.

    flows/{tenant}/detect/history/{window_epoch}-{generation}.parquet   the window's beacon-history rows
    flows/{tenant}/detect/auth/{window_epoch}-{generation}.parquet      its authentication attempts
    flows/{tenant}/detect/state.json                                    everything else, and the commit mark
(keys of `jobs.stores.objects`)

A save writes the window's segments first and `state.json` last (temp file + rename). The JSON lists the segments
it includes, and each save writes segments under a new generation, so a crash between the two leaves the previous
JSON naming the previous files: the previous state still loads whole (a re-written late window included). Files
no JSON names any more (older generations, orphans of a crash, segments past the history) go after the commit.

Segments hold polars' `pair_id` (a hash): a state saved under another polars version gets it recomputed on load;
one saved under other home networks gets its rows' direction and actor re-derived when the caller passes `home`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import polars as pl

from jobs.engines.detect.beacons import pair_id
from jobs.engines.detect.frame import actor
from jobs.engines.detect.home import HomeNetworks, with_direction
from jobs.engines.detect.pipeline import DetectionState
from jobs.stores.keys import check_part, tenant_key
from jobs.stores.objects import get_store

FORMAT: Final = 1
KINDS: Final = ("history", "auth")
# a day of beacon history and of authentication attempts (BeaconParams.history_s, CampaignParams.brute_lookback_s)
KEEP_SECONDS: Final = 86_400.0
_DERIVED: Final = ("src_home", "dst_home", "src_net", "dst_net", "direction", "local_scope", "actor")


class StateFormatError(ValueError):
    """state.json is of a format this code cannot read (written by a newer release, or damaged)."""


@dataclass(frozen=True, slots=True)
class StateMeta:
    """What the job keeps beside the engines' state.

    `window_end`: the end of the newest window detected (epoch seconds). `exposed`: "host|port|protocol" → when
    last seen exposed (`home.exposed_services`, kept a day). `windows`: window start epoch → the version of the
    snapshot it was detected from (a day of them), so a job can tell a window done from one rebuilt since."""

    window_end: float | None = None
    home_hash: str = ""
    exposed: Mapping[str, float] = field(default_factory=dict)
    windows: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Segment:
    """One stored segment: the window it covers and its file name."""

    start: int
    end: int
    name: str


def home_hash(home: HomeNetworks) -> str:
    """A short, stable digest of the home networks (their direction and actor are baked into the segments)."""
    return hashlib.sha256(",".join(str(n) for n in home.networks).encode()).hexdigest()[:16]


def state_prefix(tenant_id: int) -> str:
    """The key prefix of one tenant's detection state."""
    return tenant_key("flows", tenant_id, "detect")


def state_dir(tenant_id: int) -> Path | None:
    """The folder of one tenant's detection state in a local store (None in a remote one)."""
    return get_store().local_path(state_prefix(tenant_id))


def _read_json(tenant_id: int) -> dict[str, Any] | None:
    key = f"{state_prefix(tenant_id)}/state.json"
    try:
        raw = json.loads(get_store().get_bytes(key))
    except FileNotFoundError:
        return None
    except json.JSONDecodeError as exc:
        raise StateFormatError(f"{key} is not JSON: {exc}") from exc
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        found = raw.get("format") if isinstance(raw, dict) else type(raw).__name__
        raise StateFormatError(f"detection state of tenant {tenant_id} has format {found!r}; expected {FORMAT}")
    return raw


def _segments(raw: Mapping[str, Any] | None, kind: str) -> dict[int, Segment]:
    listed = (raw or {}).get("segments", {}).get(kind, [])
    return {int(s["start"]): Segment(int(s["start"]), int(s["end"]), str(s["name"])) for s in listed}


def _read_segments(folder: str, segments: Mapping[int, Segment], since: float) -> pl.DataFrame | None:
    # the names come from state.json: checked, so a damaged file cannot point outside the tenant's prefix
    keys = [f"{folder}/{check_part(s.name)}" for s in sorted(segments.values(), key=lambda s: s.start)
            if s.end > since]
    if not keys:
        return None
    return get_store().read_parquet(keys, hive_partitioning=False, glob=False).filter(pl.col("ts") >= since)


def _number(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise StateFormatError(f"expected a number in the detection state, got {value!r}")
    return float(value)


def _rederived(rows: pl.DataFrame | None, home: HomeNetworks) -> pl.DataFrame | None:
    """`rows` with direction, home flags and actor computed again for other home networks."""
    if rows is None:
        return None
    columns = rows.columns
    fresh = with_direction(rows.drop([c for c in _DERIVED if c in columns]), home).with_columns(actor())
    return fresh.select([c for c in columns if c in fresh.columns])


def _meta_of(raw: Mapping[str, Any]) -> StateMeta:
    return StateMeta(
        window_end=_number(raw.get("window_end")), home_hash=str(raw.get("home_hash", "")),
        exposed={str(k): float(v) for k, v in raw.get("exposed", {}).items()},
        windows={str(k): str(v) for k, v in raw.get("windows", {}).items()},
    )


def load_meta(tenant_id: int) -> StateMeta:
    """The committed state's metadata alone (state.json only, no segment read): an empty one for a new tenant."""
    raw = _read_json(tenant_id)
    return StateMeta() if raw is None else _meta_of(raw)


def load_excluded(tenant_id: int) -> dict[str, float]:
    """The committed state's outside actors that scanned or guessed (and home hosts' campaign pairs), with when
    last seen: what drift defers to detection for (state.json only)."""
    raw = _read_json(tenant_id)
    return {} if raw is None else {str(k): float(v) for k, v in raw.get("excluded", {}).items()}


def load_state(tenant_id: int, *, until: float, home: HomeNetworks | None = None,
               keep_s: float = KEEP_SECONDS) -> tuple[DetectionState, StateMeta]:
    """The tenant's committed state, for a window ending at `until`: history rows older than `until - keep_s`
    are left out (`detect_window` would drop them). A new tenant gets an empty state and `window_end` None.

    With `home`, rows saved under other home networks get their direction and actor re-derived. Raises
    StateFormatError when state.json is of another format."""
    raw = _read_json(tenant_id)
    if raw is None:
        return DetectionState(), StateMeta()
    folder = state_prefix(tenant_id)
    history = _read_segments(f"{folder}/history", _segments(raw, "history"), until - keep_s)
    auth = _read_segments(f"{folder}/auth", _segments(raw, "auth"), until - keep_s)
    if home is not None and raw.get("home_hash") != home_hash(home):
        history, auth = _rederived(history, home), _rederived(auth, home)
    if history is not None and raw.get("polars") != pl.__version__:
        # the hash behind pair_id may change between polars versions
        history = history.with_columns(pair_id())
    state = DetectionState(
        observed_from=_number(raw.get("observed_from")), beacon_history=history, auth_history=auth,
        excluded={str(k): float(v) for k, v in raw.get("excluded", {}).items()},
        habits={str(k): float(v) for k, v in raw.get("habits", {}).items()},
        reported={str(k): (float(v[0]), float(v[1])) for k, v in raw.get("reported", {}).items()},
    )
    return state, _meta_of(raw)


def _write_segment(folder: str, rows: pl.DataFrame | None, window: tuple[int, int],
                   generation: int) -> Segment | None:
    start, end = window
    if rows is None:
        return None
    part = rows.filter(pl.col("ts").is_between(start, end, closed="left"))
    if part.height == 0:
        return None
    name = f"{start}-{generation}.parquet"
    get_store().put_parquet(f"{folder}/{name}", part, compression="zstd", statistics=False)
    return Segment(start, end, name)


def _listing(before: Mapping[int, Segment], written: Segment | None, window: tuple[int, int],
             oldest: float) -> list[dict[str, Any]]:
    kept = {start: s for start, s in before.items() if s.end > oldest and start != window[0]}
    if written is not None:
        kept[written.start] = written
    return [{"start": s.start, "end": s.end, "name": s.name} for s in sorted(kept.values(), key=lambda s: s.start)]


def _write_json(key: str, document: Mapping[str, Any]) -> None:
    get_store().put_bytes(key, json.dumps(document, separators=(",", ":")).encode())


def _drop_unlisted(folder: str, listed: list[dict[str, Any]]) -> None:
    store = get_store()
    names = {s["name"] for s in listed}
    for key in store.glob(folder, "*.parquet"):
        if key.rsplit("/", 1)[-1] not in names:
            store.delete(key)


def save_state(tenant_id: int, window: tuple[float, float], state: DetectionState, meta: StateMeta, *,
               keep_s: float = KEEP_SECONDS) -> None:
    """Commit the state after detecting `window` (start, end epoch seconds): the window's history and
    authentication rows as new segments, then state.json (the commit mark), then files no longer named.

    Segments ending before `meta.window_end - keep_s` are dropped (a day plus the window being written: the
    next window still reads a full day). Writing a window already saved (a late file) replaces its segments."""
    start, end = int(window[0]), int(window[1])
    if end <= start:
        raise ValueError(f"window end {end} is not after its start {start}")
    folder = state_prefix(tenant_id)
    before = _read_json(tenant_id)
    generation = int((before or {}).get("generation", 0)) + 1
    newest = max(float(end), meta.window_end or float(end))
    oldest = newest - keep_s - (end - start)
    listings = {}
    for kind, rows in (("history", state.beacon_history), ("auth", state.auth_history)):
        written = _write_segment(f"{folder}/{kind}", rows, (start, end), generation)
        listings[kind] = _listing(_segments(before, kind), written, (start, end), oldest)
    document = {
        "format": FORMAT, "polars": pl.__version__, "generation": generation, "home_hash": meta.home_hash,
        "window_end": meta.window_end, "observed_from": state.observed_from, "excluded": dict(state.excluded),
        "habits": dict(state.habits), "reported": {k: list(v) for k, v in state.reported.items()},
        "exposed": dict(meta.exposed), "windows": dict(meta.windows), "segments": listings,
    }
    _write_json(f"{folder}/state.json", document)
    for kind in KINDS:
        _drop_unlisted(f"{folder}/{kind}", listings[kind])
