"""Beacon habits: a beacon active for a day (or already during the sensor's learning day) is known.

Its open incident keeps its peak risk, so an analyst still sees it; its later findings stay low, so the same
software (an antivirus push channel, an updater) does not raise anew every day, nor when its vendor moves it
to another address of the same /24. The caller keeps the habits (habit key → the first connection seen when
it was first reported), since the beacon history forgets connections older than a day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from jobs.engines.detect.beacons import Beacon, BeaconParams
from jobs.engines.detect.records import port_label


def habit_key(beacon: Beacon) -> str:
    """home end | outside end's /24 (the address itself inside) | port/protocol: the same habit when a vendor's
    service moves to another address of its block."""
    home, outside = (beacon.dst, beacon.src) if beacon.direction == "inbound" else (beacon.src, beacon.dst)
    if beacon.direction != "internal" and outside.count(".") == 3:
        outside = outside.rsplit(".", 1)[0] + ".0/24"
    return "|".join((home, outside, port_label(beacon.dst_port, beacon.protocol)))


def remember_habits(habits: Mapping[str, float], beacons: Iterable[Beacon]) -> dict[str, float]:
    """`habits` (habit key → the first connection of its first report) with `beacons` added."""
    found = dict(habits)
    for beacon in beacons:
        found.setdefault(habit_key(beacon), beacon.first_ts)
    return found


def is_habit(beacon: Beacon, habits: Mapping[str, float], *, now: float, learning_end: float,
             params: BeaconParams | None = None) -> bool:
    """A beacon is a habit once active for `habit_after_s` since its first report's first connection, or when
    it was already active during the sensor's learning day (before `learning_end`) and that day is over. Its
    open incident keeps its peak risk; only its later findings stay low."""
    params = params or BeaconParams()
    since = min(habits.get(habit_key(beacon), beacon.first_ts), beacon.first_ts)
    return now - since >= params.habit_after_s or since < learning_end <= now
