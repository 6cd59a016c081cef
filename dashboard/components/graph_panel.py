"""Widgets of the Graph page: the toolbar of pickers and filters, the legend with counts, the details panel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import reflex as rx
from reflex_base.vars import ObjectVar

from dashboard.components.bindings import array, event, mapping
from jobs.engines.enrich import ATTRIBUTION, DBIP_LINK
from jobs.engines.graph.figure import EDGE_STYLES, NODE_KINDS
from jobs.engines.graph.filters import DIRECTIONS
from state.graph import GraphDetailState, GraphState


def _select(id_: str, label: str, value: rx.Var[str] | str, on_change: object, *options: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray"),
        rx.el.select(*options, value=value, on_change=on_change, id=id_,
                     style={"padding": "0.3em", "border": "1px solid var(--gray-a7)", "borderRadius": "6px",
                            "maxWidth": "22em"}),
        spacing="1",
    )


def _filter_input(name: str, label: str, placeholder: str, width: str = "8em") -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray"),
        rx.input(value=GraphState.filters[name], placeholder=placeholder, width=width, id=f"graph-{name}",
                 on_change=lambda v: event(GraphState.set_filter)(name, v), debounce_timeout=250),
        spacing="1",
    )


def _options(values: rx.Var[list[str]] | list[str], any_label: str) -> list[rx.Component]:
    return [rx.el.option(any_label, value=""), rx.foreach(values, lambda v: rx.el.option(v, value=v))]


def _peer_options(name: str) -> list[rx.Component]:
    return [rx.el.option("any", value=""),
            rx.foreach(GraphState.peer_options[name], lambda o: rx.el.option(o["label"], value=o["value"]))]


def snapshot_pickers() -> rx.Component:
    """The open snapshot and the diff base."""
    snapshot_options = rx.foreach(GraphState.snapshots, lambda s: rx.el.option(s["label"], value=s["id"]))
    compare_options = rx.foreach(GraphState.snapshots, lambda s: rx.el.option(s["label"], value=s["id"]))
    return rx.hstack(
        _select("graph-snapshot", "Snapshot", GraphState.snapshot_id, GraphState.pick_snapshot, snapshot_options),
        _select("graph-compare", "Diff against (base)", GraphState.compare_id, GraphState.pick_compare,
                rx.el.option("no diff overlay", value=""),
                rx.el.option("baseline (earlier windows) — latest snapshot only", value="baseline"), compare_options),
        rx.cond(GraphState.compare_id != "", rx.vstack(
            rx.text("Only changes", size="1", color_scheme="gray"),
            rx.switch(checked=~GraphState.show_all, id="graph-changes-only",
                      on_change=GraphState.set_changes_only), spacing="2")),
        rx.spacer(),
        rx.button(rx.icon("download", size=14), "Graph JSON", variant="soft", size="2",
                  on_click=GraphState.download_json, id="graph-download-json"),
        align="end", width="100%", wrap="wrap", spacing="4",
    )


def filter_bar() -> rx.Component:
    """Filters; each change redraws without a reload."""
    return rx.hstack(
        rx.cond(array(GraphState.cluster_options).length() > 1, _select(
            "graph-cluster", "Cluster", GraphState.filters["cluster"],
            lambda v: event(GraphState.set_filter)("cluster", v), *_options(GraphState.cluster_options, "any"))),
        _select("graph-namespace", "Namespace", GraphState.filters["namespace"],
                lambda v: event(GraphState.set_filter)("namespace", v), *_options(GraphState.namespace_options, "any")),
        _select("graph-protocol", "Protocol", GraphState.filters["protocol"],
                lambda v: event(GraphState.set_filter)("protocol", v), *_options(GraphState.protocol_options, "any")),
        _select("graph-kind", "Node kind", GraphState.filters["kind"],
                lambda v: event(GraphState.set_filter)("kind", v),
                rx.el.option("any", value=""), rx.el.option("workload", value="workload"),
                rx.el.option("ip", value="ip"), rx.el.option("external", value="external")),
        _select("graph-direction", "Direction", GraphState.filters["direction"],
                lambda v: event(GraphState.set_filter)("direction", v),
                rx.el.option("any", value=""), *[rx.el.option(d, value=d) for d in DIRECTIONS]),
        _select("graph-country", "Peer country", GraphState.filters["country"],
                lambda v: event(GraphState.set_filter)("country", v), *_peer_options("country")),
        _select("graph-asn", "Peer network (AS)", GraphState.filters["asn"],
                lambda v: event(GraphState.set_filter)("asn", v), *_peer_options("asn")),
        _filter_input("port", "Port", "any"),
        _filter_input("min_bytes", "Min bytes", "0"),
        _filter_input("text", "Search", "name, IP, label", width="14em"),
        rx.vstack(rx.text("External only", size="1", color_scheme="gray"),
                  rx.switch(checked=GraphState.filters["external_only"] == "true", id="graph-external-only",
                            on_change=lambda v: event(GraphState.set_filter)("external_only", v)), spacing="2"),
        rx.button("Clear", variant="outline", size="2", on_click=GraphState.clear_filters, id="graph-clear"),
        align="end", wrap="wrap", spacing="3", width="100%",
    )


def _swatch(color: str, text: str, dashed: bool = False) -> rx.Component:
    line = rx.box(width="1.6em", height="0", border_top=f"3px {'dashed' if dashed else 'solid'} {color}")
    return rx.hstack(line, rx.text(text, size="1"), align="center", spacing="1")


def legend() -> rx.Component:
    """Edge and node styles, and the counts of the view (and of the diff when one is open)."""
    edges = [_swatch(str(look["color"]), str(look["name"]), look["dash"] == "dash") for look in EDGE_STYLES.values()]
    nodes = [rx.hstack(rx.box(width="0.8em", height="0.8em", background=color, border_radius="50%"),
                       rx.text(kind, size="1"), align="center", spacing="1") for kind, (color, _) in NODE_KINDS.items()]
    return rx.vstack(
        rx.hstack(*edges, *nodes, wrap="wrap", spacing="3"),
        rx.hstack(rx.foreach(GraphState.counts, lambda kv: rx.badge(kv[0], ": ", kv[1], variant="surface",
                                                                     id="graph-count-" + kv[0].replace(" ", "-"))),
                  wrap="wrap", spacing="2", id="graph-counts"),
        spacing="2", width="100%",
    )


def _edge_table(title: str, rows: rx.Var[list[dict[str, str]]] | list[dict[str, str]], id_: str) -> rx.Component:
    return rx.vstack(
        rx.text(title, weight="bold", size="2"),
        rx.table.root(rx.table.body(rx.foreach(rows, lambda r: rx.table.row(
            rx.table.cell(r["peer"]), rx.table.cell(r["service"]), rx.table.cell(r["bytes"], " B"),
            rx.table.cell(r["flows"], " flows"), class_name="graph-edge-row"))), size="1", id=id_),
        spacing="1", width="100%",
    )


def attribution() -> rx.Component:
    """The enrichment data's licence terms: shown wherever its AS and country answers are."""
    return rx.text(ATTRIBUTION, " ", rx.link(DBIP_LINK[0], href=DBIP_LINK[1], is_external=True, id="graph-dbip-link"),
                   size="1", color_scheme="gray", class_name="graph-attribution")


def _peer_facts(d: ObjectVar[Mapping[str, Any]]) -> rx.Component:
    return rx.vstack(
        rx.text("AS ", d["asn"], " · ", d["as_org"], " · country ", d["country"], size="2", id="graph-detail-peer"),
        attribution(), spacing="1",
    )


def details_panel() -> rx.Component:
    """The clicked node: identity, labels, in/out edges with volumes, times, drift events with links."""
    d = mapping(GraphDetailState.detail)
    return rx.cond(
        d.length() > 0,
        rx.card(rx.vstack(
            rx.hstack(rx.heading(d["key"], size="3", id="graph-detail-key"), rx.spacer(),
                      rx.icon_button(rx.icon("x", size=14), size="1", variant="ghost",
                                     on_click=GraphDetailState.close)),
            rx.text(d["zone"], " · ", d["kind"], " · namespace ", d["namespace"], " · group ", d["group"], size="1",
                    id="graph-detail-zone"),
            rx.cond(d["zone"] == "outside", _peer_facts(d)),
            rx.text("seen ", d["first_seen"], " → ", d["last_seen"], size="1", color_scheme="gray"),
            rx.hstack(rx.foreach(GraphDetailState.detail_labels, lambda lab: rx.code(lab, size="1")), wrap="wrap"),
            _edge_table("Outgoing", GraphDetailState.outgoing, "graph-detail-out"),
            _edge_table("Incoming", GraphDetailState.incoming, "graph-detail-in"),
            rx.text("Drift events", weight="bold", size="2"),
            rx.cond(array(GraphDetailState.events).length() > 0,
                    rx.vstack(rx.foreach(GraphDetailState.events, lambda ev: rx.link(
                        ev["risk"], " ", ev["kind"], " ", ev["path"], href="/drift?event=" + ev["id"], size="1"))),
                    rx.text("none in this snapshot", size="1", color_scheme="gray")),
            spacing="2", width="100%", id="graph-details",
        ), width="24em", flex_shrink="0"),
    )
