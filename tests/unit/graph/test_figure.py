"""Plotly traces: one line trace per edge style, one trace per node kind, clicks map back, payload bounded."""

from __future__ import annotations

from jobs.engines.graph.diff import classify, union
from jobs.engines.graph.figure import uses_webgl, view_figure
from jobs.engines.graph.layout import compute_layout
from jobs.engines.graph.view import ViewOptions, build_view
from tests.unit.graph.builders import edge, estate, graph


def test_edges_of_a_style_share_one_trace_and_clicks_map_to_nodes() -> None:
    g = graph(edge("a/x", "a/y"), edge("a/y", "a/z"), edge("a/x", "10.0.0.1", 22, "udp"))
    figure, keys = view_figure(build_view(g, compute_layout(g)))
    names = [t.name for t in figure.data]
    assert names.count("edges") == 1
    lines = figure.data[names.index("edges")]
    assert len(lines.x) == 3 * 3 and lines.x[2] is None
    hover = figure.data[names.index("edge info")]
    assert any("ports 22 · udp" in t and "100 bytes · 1 flows" in t for t in hover.text)
    workload = names.index("workload")
    assert keys[workload] == ["a/x", "a/y", "a/z"] and keys[names.index("home")] == ["10.0.0.1"]
    assert keys[names.index("edges")] == []


def test_diff_styles_get_their_own_traces() -> None:
    base, now = graph(edge("a/x", "a/gone")), graph(edge("a/x", "a/new"))
    both = union(base, now)
    figure, _ = view_figure(build_view(both, compute_layout(both), ViewOptions(diff=classify(base, now))))
    assert {"added edge", "removed edge"} <= {t.name for t in figure.data}


def test_search_centres_on_the_match() -> None:
    g = graph(edge("a/x", "a/y"))
    layout = compute_layout(g)
    figure, _ = view_figure(build_view(g, layout, ViewOptions(matches=("a/y",))))
    x0, x1 = figure.layout.xaxis.range
    assert abs((x0 + x1) / 2 - layout.nodes["a/y"][0]) < 0.1
    assert "search match" in {t.name for t in figure.data}


def test_big_graphs_use_webgl_and_stay_under_a_megabyte() -> None:
    g = estate(50, 100, ips=0)  # 5,000 nodes
    layout = compute_layout(g)
    grouped, _ = view_figure(build_view(g, layout))
    assert len(grouped.to_json()) < 100_000
    opened = build_view(g, layout, ViewOptions(expanded=frozenset({"ns:ns3"})))
    assert len(view_figure(opened)[0].to_json()) < 1_000_000
    flat, _ = view_figure(build_view(g, layout, ViewOptions(threshold=10_000)))
    assert flat.data[0].type == "scattergl"
    assert len(flat.to_json()) < 1_000_000
    # the page then draws it with plotly's gl2d bundle; a small view stays on the basic one (no scattergl there)
    assert uses_webgl(flat) and uses_webgl(flat.to_plotly_json())
    small, _ = view_figure(build_view(graph(edge("a", "b")), compute_layout(graph(edge("a", "b")))))
    assert not uses_webgl(small) and not uses_webgl(small.to_plotly_json()) and not uses_webgl({})


HOSTILE = '<a href="https://evil.example/x">click</a><span style="font-size:90px">&'


def test_names_from_uploaded_flows_reach_plotly_as_text_not_markup() -> None:
    g = graph(edge(f"a/{HOSTILE}", "a/y"), edge("a/y", "a/%{x}"))
    figure, _ = view_figure(build_view(g, compute_layout(g)))
    shown: list[str] = []
    for trace in figure.data:
        for field in ("text", "hovertext", "texttemplate", "customdata"):
            value = getattr(trace, field, None)
            shown += [value] if isinstance(value, str) else list(value or ())
    hostile = [s for s in shown if "evil.example" in s]
    assert hostile, "the hostile name is shown somewhere"
    assert not any("<a" in s or "<span" in s for s in shown)
    assert any("&lt;a href=" in s and "&amp;" in s for s in hostile)
    assert all(t.texttemplate in (None, "%{customdata}") for t in figure.data if hasattr(t, "texttemplate"))


def test_a_webgl_view_draws_one_arrow_stroke_per_edge_and_builds_fast() -> None:
    import time

    import plotly.graph_objects as go

    g = estate(20, 100)
    layout = compute_layout(g)
    view = build_view(g, layout, ViewOptions(threshold=10_000))
    start = time.perf_counter()
    figure, _ = view_figure(view)
    took = time.perf_counter() - start
    names = [t.name for t in figure.data]
    lines, heads = figure.data[names.index("edges")], figure.data[names.index("edges direction")]
    assert isinstance(lines, go.Scattergl) and isinstance(heads, go.Scattergl)
    # wing, tip, wing, gap: four values an arrowhead (two strokes took six)
    assert len(heads.x) == 4 * (len(lines.x) // 3) and heads.x[3] is None and heads.meta == {"directed": True}
    # built without plotly's per-value validation (it took most of a large view's time)
    assert took < 1.0, took
