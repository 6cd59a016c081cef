"""The graph engine: server-side layout, grouping, filters, snapshot diff and plotly traces (no I/O but the
layout cache in `store`)."""
