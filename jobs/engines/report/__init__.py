"""Reports (issue 18 item 4): a period of the tenant's drift as Markdown, JSON and PDF. Pure: plain data in
(`model.ReportData`, gathered by `jobs.reports`), text, a dict or PDF bytes out; no I/O.

markdown.render_markdown(data) -> str        headings, tables, the top incidents with their explanations
jsondoc.render_json(data) -> dict            the same facts as JSON values (`SCHEMA` names the layout)
pdf.render_pdf(data) -> bytes                ReportLab: the same sections and the service-graph picture, drawn
                                             with ReportLab's own vector primitives from the graph engine's layout
model.summary_lines(data) -> list[str]       the few lines a scheduled digest message carries
"""
