"""The Replay page: a past period window by window from the stored snapshots (no re-ingestion).

The period's shared data and its drawn frames live in a per-process cache (`state.replay_cache`), not in the tab's
state: a step sends the browser the frame's two figures (as JSON, without their template, which the page sets
once), its label, counts and the policies' verdict, taken from the cache when warmed, drawn at once otherwise.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import reflex as rx
from reflex_base.event import EventSpec

from jobs.engines.graph.figure import uses_webgl
from jobs.engines.replay.period import (
    SPEEDS,
    BadPeriod,
    Period,
    choose_period,
    frame_from,
    parse_moment,
    share_query,
)
from models.db import session_scope
from models.errors import Invalid, NotFound
from models.queries import replay as replay_queries
from state import replay_cache
from state.base import AppState, guarded

ALL_SOURCES = "all"
KEYS_SCRIPT = """
if (!window.__sgReplayKeys) { window.__sgReplayKeys = true;
  document.addEventListener('keydown', (e) => {
    if (!location.pathname.startsWith('/replay') || e.altKey || e.ctrlKey || e.metaKey) return;
    const t = e.target || {}; const tag = t.tagName || '';
    if (['INPUT', 'TEXTAREA', 'SELECT'].includes(tag) || t.isContentEditable) return;
    if (t.getAttribute && t.getAttribute('role') === 'slider') return;
    const id = {' ': 'replay-play', 'ArrowRight': 'replay-next', 'ArrowLeft': 'replay-prev'}[e.key];
    const button = id && document.getElementById(id);
    if (!button || button.disabled) return;
    /* a focused button would take space as its own click: here the key belongs to the player */
    e.preventDefault(); if (tag === 'BUTTON') t.blur(); button.click();
  });
}
"""


def _moment(value: datetime) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC"


class ReplayState(AppState):
    period_from: str = ""
    period_to: str = ""
    source: str = ALL_SOURCES
    sources: list[str] = []
    frame: int = 0
    frame_count: int = 0
    frame_label: str = ""
    figure: dict[str, Any] = {}
    timeline: dict[str, Any] = {}
    counts: dict[str, str] = {}
    policies_note: str = ""
    blocked: list[dict[str, str]] = []
    playing: bool = False
    speed: str = "1"
    message: str = ""
    # the period shown ("" when none): the cache is looked up by the signed-in tenant, this period and source
    _shown: str = ""

    def _period(self) -> Period:
        return Period(parse_moment(self.period_from, "From"), parse_moment(self.period_to, "To"))

    def _source(self) -> str | None:
        return None if self.source == ALL_SOURCES else self.source

    def _share(self) -> EventSpec:
        """The address bar follows the frame, without loading the page again."""
        query = share_query(self._period(), self.frame, "" if self.source == ALL_SOURCES else self.source)
        return rx.call_script(f"window.history.replaceState(null, '', '/replay' + {json.dumps(query)})")

    def _clear(self) -> None:
        self.figure, self.timeline, self.counts, self.blocked = {}, {}, {}, []
        self.frame_label = self.policies_note = ""

    async def _open_period(self, start_text: str, end_text: str, source: str, frame_text: str) -> bool:
        """Load the period's shared data; False (with the reason in `message`) when it cannot be shown."""
        tenant_id = self._tenant_id
        async with session_scope() as session:
            self.sources = await replay_queries.snapshot_sources(session, tenant_id=tenant_id)
            span = await replay_queries.snapshot_span(session, tenant_id=tenant_id)
        self.playing, self._shown = False, ""
        if span is None:
            self.frame = self.frame_count = 0
            self._clear()
            self.message = "No snapshots yet: upload flows on the Sources page, then replay their windows here."
            return False
        self.source = source if source in self.sources else ALL_SOURCES
        try:
            period = choose_period(start_text, end_text, span[1], span[0])
            data = await replay_cache.open_period(tenant_id, period, self._source())
        except (BadPeriod, Invalid) as exc:
            self.message = str(exc) if isinstance(exc, BadPeriod) else exc.message
            return False
        self.period_from, self.period_to = (f"{moment:%Y-%m-%d %H:%M}" for moment in (period.start, period.end))
        self._shown = f"{self.period_from}|{self.period_to}|{self.source}"
        self.frame_count = len(data.windows)
        self.message = (
            ""
            if data.windows
            else (
                f"No snapshot window in this period: the stored windows run from {_moment(span[0])} to "
                f"{_moment(span[1])}."
            )
        )
        await self._show(frame_from(frame_text, self.frame_count))
        return True

    async def _data(self) -> replay_cache.PeriodData | None:
        """The shown period from this process's cache, opened again when it is not held here."""
        if not self._shown:
            return None
        period = self._period()
        held = replay_cache.cached(self._tenant_id, period, self._source())
        return held or await replay_cache.open_period(self._tenant_id, period, self._source())

    async def _show(self, frame: int) -> None:
        """Draw frame `frame` (1-based; 0 clears)."""
        self.frame = frame
        data = await self._data() if frame else None
        if data is None or not data.windows:
            self._clear()
            return
        try:
            drawn = await replay_cache.frame(self._tenant_id, data, frame - 1)
        except NotFound as exc:
            self.message = exc.message
            return
        self.figure, self.timeline = json.loads(drawn.figure), json.loads(drawn.timeline)
        self.frame_label, self.counts = drawn.label, drawn.counts
        self.blocked, self.policies_note = drawn.blocked, drawn.note
        replay_cache.warm(self._tenant_id, data, frame - 1)

    @rx.event
    @guarded("viewer")
    async def load(self) -> list[EventSpec] | None:
        """on_load: the period, source and frame from the URL; defaults: the 7 days up to the newest window."""
        params = self.router.url.query_parameters
        shown = await self._open_period(
            params.get("from", ""), params.get("to", ""), params.get("source", ""), params.get("frame", "")
        )
        return [rx.call_script(KEYS_SCRIPT), self._share()] if shown else [rx.call_script(KEYS_SCRIPT)]

    @rx.event
    @guarded("viewer")
    async def apply_period(self, form: dict[str, Any]) -> EventSpec | None:
        """The period form: open its first frame."""
        shown = await self._open_period(
            str(form.get("from", "")), str(form.get("to", "")), str(form.get("source", ALL_SOURCES)), "1"
        )
        return self._share() if shown else None

    @rx.event
    @guarded("viewer")
    async def step(self, delta: int) -> EventSpec | None:
        """One frame back (-1) or forward (+1); pauses playback."""
        self.playing = False
        return await self._go(self.frame + delta)

    @rx.event
    @guarded("viewer")
    async def go_to(self, value: list[float]) -> EventSpec | None:
        """The slider let go at a frame."""
        self.playing = False
        return await self._go(int(value[0]) if value else self.frame)

    async def _go(self, frame: int) -> EventSpec | None:
        target = min(max(frame, 1), self.frame_count)
        if not self.frame_count or target == self.frame:
            return None
        await self._show(target)
        return self._share()

    @rx.event
    @guarded("viewer")
    async def toggle_play(self) -> EventSpec | None:
        """Play from the current frame (from the first when at the end), or pause."""
        if self.playing or not self.frame_count:
            self.playing = False
            return None
        self.playing = True
        return await self._go(1) if self.frame >= self.frame_count else None

    @rx.event
    @guarded("viewer")
    async def tick(self, _: str = "") -> EventSpec | None:
        """The player's clock: the next frame; playback stops at the last."""
        if not self.playing:
            return None
        if self.frame >= self.frame_count:
            self.playing = False
            return None
        return await self._go(self.frame + 1)

    @rx.event
    @guarded("viewer")
    def set_speed(self, value: str) -> None:
        """Frames per second: 1×, 2×, 4×, 8×."""
        if value in {str(s) for s in SPEEDS}:
            self.speed = value

    @rx.var
    def webgl(self) -> bool:
        """The frame's graph has WebGL traces (a large estate): the page draws it with plotly's gl2d bundle."""
        return uses_webgl(self.figure)

    @rx.var
    def interval_ms(self) -> int:
        """Milliseconds between frames at the chosen speed."""
        return 1000 // max(int(self.speed or "1"), 1)
