"""Notifications as pure functions (no I/O): what an incident looks like to each receiver, and when to send it.

notice.Notice                           the incident facts every format reads (built by the caller)
cef.format_cef(notice)                  ArcSight CEF line: header and extension escaped, severity 0–10
syslog.frame_rfc5424(msg, …)            an RFC 5424 message; syslog.octet_count(…) frames it for TCP/TLS
messages.slack_message / hec_event      Slack Block Kit and Splunk HEC bodies
messages.webhook_request(…)             the generic webhook body and its HMAC-SHA256 signature headers
jira.create_issue / add_comment         Jira Cloud REST v3 payloads (Atlassian document format)
routing.Route.decide(notice, now)       min severity, kinds and namespaces in/out, quiet hours
pacing.backoff_delay / RateLimit        retry schedule (honours Retry-After) and per-integration spacing
pacing.plan_digest(due, threshold)      more than N due in a minute → one summary instead of N
"""
