"""The detection store: a state saved window by window loads back as it was, survives a crash between its
segments and its JSON, forgets what is past a day, and keeps tenants apart."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from jobs.engines.detect.home import HomeNetworks
from jobs.engines.detect.pipeline import DetectionState, detect_window
from jobs.stores import detection as store
from jobs.stores.detection import (
    StateFormatError,
    StateMeta,
    home_hash,
    load_excluded,
    load_meta,
    load_state,
    save_state,
)
from tests.unit.detect.builders import DAY, HOME, HOUR, SENSOR, START, by_hour, detection, periodic
from tests.unit.detect.test_campaigns import ssh_guesses

HOST, C2 = "10.0.0.7", "185.220.101.4"


# SG_DATA_DIR in each test's own folder (tests/unit/conftest.py)
pytestmark = pytest.mark.usefixtures("data_dir")


def windows(hours: float = 6) -> list[tuple[float, pl.DataFrame]]:
    flows = periodic(HOST, C2, period=300, jitter=40, hours=hours, orig_bytes=120)
    flows += ssh_guesses("45.9.20.7", SENSOR, 30, first=HOUR)
    return list(by_hour(detection(flows)))


def run_and_save(tenant_id: int, parts: list[tuple[float, pl.DataFrame]],
                 state: DetectionState | None = None) -> DetectionState:
    state = state or DetectionState()
    for end, frame in parts:
        _, state = detect_window(state, frame, window_end=end)
        meta = StateMeta(window_end=end, home_hash=home_hash(HOME), exposed={f"{SENSOR}|22|tcp": end},
                         windows={str(int(end - HOUR)): f"built {end}"})
        save_state(tenant_id, (end - HOUR, end), state, meta)
    return state


def assert_same_state(loaded: DetectionState, kept: DetectionState) -> None:
    assert loaded.observed_from == kept.observed_from
    assert loaded.excluded == kept.excluded and loaded.habits == kept.habits and loaded.reported == kept.reported
    for mine, theirs in ((loaded.beacon_history, kept.beacon_history), (loaded.auth_history, kept.auth_history)):
        assert mine is not None and theirs is not None
        assert_frame_equal(mine.sort("ts", "src_ip"), theirs.sort("ts", "src_ip"))


def test_a_state_saved_window_by_window_loads_back_as_it_was() -> None:
    parts = windows()
    kept = run_and_save(1, parts)
    end = parts[-1][0]
    loaded, meta = load_state(1, until=end + HOUR, home=HOME)
    assert_same_state(loaded, kept)
    assert kept.reported and kept.auth_history is not None and kept.auth_history.height == 30
    assert meta == StateMeta(window_end=end, home_hash=home_hash(HOME), exposed={f"{SENSOR}|22|tcp": end},
                             windows={str(int(end - HOUR)): f"built {end}"})
    assert load_meta(1) == meta and load_meta(2) == StateMeta()
    assert load_excluded(1) == kept.excluded == {"45.9.20.0/24": parts[1][0]} and load_excluded(2) == {}
    # the next window's detection is the same from the loaded state as from the one kept in memory
    more = periodic(HOST, C2, period=300, jitter=40, hours=1, first=end - START, seed=9, orig_bytes=120)
    [(next_end, frame)] = by_hour(detection(more))
    assert detect_window(loaded, frame, window_end=next_end)[0] == detect_window(kept, frame, window_end=next_end)[0]


def test_a_crash_between_the_segments_and_the_json_leaves_the_previous_state(
        monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    parts = windows()
    kept = run_and_save(1, parts[:-1])
    _, after = detect_window(kept, parts[-1][1], window_end=parts[-1][0])

    def crash(path: Path, document: object) -> None:
        raise OSError("disk gone")

    with monkeypatch.context() as patched, pytest.raises(OSError, match="disk gone"):
        patched.setattr(store, "_write_json", crash)
        save_state(1, (parts[-1][0] - HOUR, parts[-1][0]), after, StateMeta(window_end=parts[-1][0]))
    orphans = list((data_dir / "flows/1/detect/history").glob(f"{int(parts[-1][0] - HOUR)}-*.parquet"))
    assert len(orphans) == 1  # written, but no JSON names it
    loaded, meta = load_state(1, until=parts[-1][0])
    assert_same_state(loaded, kept)
    assert meta.window_end == parts[-2][0]
    (data_dir / "flows/1/detect/auth/1-1.parquet").write_bytes(b"left by a crash")
    # the next save commits, and only the files its JSON names stay
    save_state(1, (parts[-1][0] - HOUR, parts[-1][0]), after, StateMeta(window_end=parts[-1][0]))
    document = json.loads((data_dir / "flows/1/detect/state.json").read_text())
    for kind in ("history", "auth"):
        named = {s["name"] for s in document["segments"][kind]}
        assert {p.name for p in (data_dir / "flows/1/detect" / kind).iterdir()} == named
    assert_same_state(load_state(1, until=parts[-1][0])[0], after)


def test_a_late_window_replaces_its_segments_and_keeps_the_newest_end() -> None:
    parts = windows()
    state = run_and_save(1, parts)
    start, end = parts[1][0] - HOUR, parts[1][0]
    fewer = state.beacon_history.filter(~pl.col("ts").is_between(start, end, closed="left")  # type: ignore[union-attr]
                                        | (pl.col("src_ip") == HOST))
    late = DetectionState(observed_from=state.observed_from, beacon_history=fewer, auth_history=state.auth_history)
    save_state(1, (start, end), late, StateMeta(window_end=parts[-1][0]))
    loaded, meta = load_state(1, until=parts[-1][0])
    assert meta.window_end == parts[-1][0]
    assert loaded.beacon_history is not None
    assert loaded.beacon_history.height == fewer.height < state.beacon_history.height  # type: ignore[union-attr]
    assert len(list(Path(store.state_dir(1), "history").glob(f"{int(start)}-*.parquet"))) == 1


def test_segments_past_a_day_and_a_window_are_deleted(data_dir: Path) -> None:
    flows = periodic(HOST, C2, period=600, jitter=60, hours=30, orig_bytes=120)
    parts = list(by_hour(detection(flows)))
    run_and_save(1, parts)
    folder = data_dir / "flows/1/detect/history"
    starts = sorted(int(p.name.split("-")[0]) for p in folder.glob("*.parquet"))
    last_end = parts[-1][0]
    assert starts[0] == last_end - DAY - HOUR and starts[-1] == last_end - HOUR
    assert len(starts) == 25
    loaded, _ = load_state(1, until=last_end + HOUR)
    assert loaded.beacon_history is not None
    assert loaded.beacon_history.filter(pl.col("ts") < last_end + HOUR - DAY).height == 0


def test_tenants_keep_their_own_state() -> None:
    parts = windows()
    kept = run_and_save(1, parts)
    other, meta = load_state(2, until=parts[-1][0])
    assert other == DetectionState() and meta == StateMeta()
    run_and_save(2, parts[:2])
    assert_same_state(load_state(1, until=parts[-1][0])[0], kept)
    assert load_state(2, until=parts[-1][0])[1].window_end == parts[1][0]


def test_another_polars_version_recomputes_pair_ids_and_other_home_networks_rederive_directions(
        data_dir: Path) -> None:
    parts = windows()
    kept = run_and_save(1, parts)
    path = data_dir / "flows/1/detect/state.json"
    document = json.loads(path.read_text())
    for segment in document["segments"]["history"]:
        file = path.parent / "history" / segment["name"]
        pl.read_parquet(file).with_columns(pl.lit(7, pl.UInt64).alias("pair_id")).write_parquet(file)
    path.write_text(json.dumps(document | {"polars": "0.0.1"}))
    loaded, _ = load_state(1, until=parts[-1][0])
    assert_same_state(loaded, kept)
    # the C2 is ours now: its beacon rows turn internal, its /24 no outside actor any more
    home = HomeNetworks.of(["185.220.101.0/24"], sensors=[SENSOR])
    moved, _ = load_state(1, until=parts[-1][0], home=home)
    assert moved.beacon_history is not None
    assert set(moved.beacon_history.filter(pl.col("dst_ip") == C2)["direction"]) == {"internal"}
    assert moved.beacon_history.columns == kept.beacon_history.columns  # type: ignore[union-attr]


def test_a_state_of_another_format_is_refused(data_dir: Path) -> None:
    run_and_save(1, windows()[:1])
    path = data_dir / "flows/1/detect/state.json"
    path.write_text(json.dumps(json.loads(path.read_text()) | {"format": 99}))
    with pytest.raises(StateFormatError, match="format 99"):
        load_state(1, until=START + DAY)
    with pytest.raises(ValueError, match="not after its start"):
        save_state(1, (START + HOUR, START), DetectionState(), StateMeta())
