"""Detection state on disk: one tenant's `DetectionState` between `detect_incidents` runs.

    {flow_dir}/{tenant}/detect/history/{window_epoch}-{generation}.parquet   the window's beacon-history rows
    {flow_dir}/{tenant}/detect/auth/{window_epoch}-{generation}.parquet      its authentication attempts
    {flow_dir}/{tenant}/detect/state.json                                    everything else, and the commit mark

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
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import polars as pl

from jobs.engines.detect.beacons import pair_id
from jobs.engines.detect.frame import actor
from jobs.engines.detect.home import HomeNetworks, with_direction
from jobs.engines.detect.pipeline import DetectionState
from models.settings import get_settings

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


def state_dir(tenant_id: int) -> Path:
    """The folder of one tenant's detection state."""
    return get_settings().flow_dir / str(tenant_id) / "detect"


def _read_json(tenant_id: int) -> dict[str, Any] | None:
    try:
        raw = json.loads((state_dir(tenant_id) / "state.json").read_text())
    except FileNotFoundError:
        return None
    except json.JSONDecodeError as exc:
        raise StateFormatError(f"{state_dir(tenant_id) / 'state.json'} is not JSON: {exc}") from exc
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        found = raw.get("format") if isinstance(raw, dict) else type(raw).__name__
        raise StateFormatError(f"detection state of tenant {tenant_id} has format {found!r}; expected {FORMAT}")
    return raw


def _segments(raw: Mapping[str, Any] | None, kind: str) -> dict[int, Segment]:
    listed = (raw or {}).get("segments", {}).get(kind, [])
    return {int(s["start"]): Segment(int(s["start"]), int(s["end"]), str(s["name"])) for s in listed}


def _read_segments(folder: Path, segments: Mapping[int, Segment], since: float) -> pl.DataFrame | None:
    paths = [folder / s.name for s in sorted(segments.values(), key=lambda s: s.start) if s.end > since]
    if not paths:
        return None
    return pl.read_parquet(paths, hive_partitioning=False, glob=False).filter(pl.col("ts") >= since)


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
    folder = state_dir(tenant_id)
    history = _read_segments(folder / "history", _segments(raw, "history"), until - keep_s)
    auth = _read_segments(folder / "auth", _segments(raw, "auth"), until - keep_s)
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


def _write_segment(folder: Path, rows: pl.DataFrame | None, window: tuple[int, int],
                   generation: int) -> Segment | None:
    start, end = window
    if rows is None:
        return None
    part = rows.filter(pl.col("ts").is_between(start, end, closed="left"))
    if part.height == 0:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{start}-{generation}.parquet"
    part.write_parquet(folder / name, compression="zstd", statistics=False)
    return Segment(start, end, name)


def _listing(before: Mapping[int, Segment], written: Segment | None, window: tuple[int, int],
             oldest: float) -> list[dict[str, Any]]:
    kept = {start: s for start, s in before.items() if s.end > oldest and start != window[0]}
    if written is not None:
        kept[written.start] = written
    return [{"start": s.start, "end": s.end, "name": s.name} for s in sorted(kept.values(), key=lambda s: s.start)]


def _write_json(path: Path, document: Mapping[str, Any]) -> None:
    temp = path.with_name(f".state.{uuid.uuid4().hex[:8]}.tmp")
    temp.write_text(json.dumps(document, separators=(",", ":")))
    os.replace(temp, path)


def _drop_unlisted(folder: Path, listed: list[dict[str, Any]]) -> None:
    names = {s["name"] for s in listed}
    for path in folder.glob("*.parquet"):
        if path.name not in names:
            path.unlink(missing_ok=True)


def save_state(tenant_id: int, window: tuple[float, float], state: DetectionState, meta: StateMeta, *,
               keep_s: float = KEEP_SECONDS) -> None:
    """Commit the state after detecting `window` (start, end epoch seconds): the window's history and
    authentication rows as new segments, then state.json (the commit mark), then files no longer named.

    Segments ending before `meta.window_end - keep_s` are dropped (a day plus the window being written: the
    next window still reads a full day). Writing a window already saved (a late file) replaces its segments."""
    start, end = int(window[0]), int(window[1])
    if end <= start:
        raise ValueError(f"window end {end} is not after its start {start}")
    folder = state_dir(tenant_id)
    before = _read_json(tenant_id)
    generation = int((before or {}).get("generation", 0)) + 1
    newest = max(float(end), meta.window_end or float(end))
    oldest = newest - keep_s - (end - start)
    listings = {}
    for kind, rows in (("history", state.beacon_history), ("auth", state.auth_history)):
        written = _write_segment(folder / kind, rows, (start, end), generation)
        listings[kind] = _listing(_segments(before, kind), written, (start, end), oldest)
    document = {
        "format": FORMAT, "polars": pl.__version__, "generation": generation, "home_hash": meta.home_hash,
        "window_end": meta.window_end, "observed_from": state.observed_from, "excluded": dict(state.excluded),
        "habits": dict(state.habits), "reported": {k: list(v) for k, v in state.reported.items()},
        "exposed": dict(meta.exposed), "windows": dict(meta.windows), "segments": listings,
    }
    folder.mkdir(parents=True, exist_ok=True)
    _write_json(folder / "state.json", document)
    for kind in KINDS:
        if (folder / kind).is_dir():
            _drop_unlisted(folder / kind, listings[kind])
