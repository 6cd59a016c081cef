"""Senders of notifications: HTTP receivers (Slack, Jira, Splunk HEC, signed webhook) and syslog over TCP, UDP
or TLS, each behind the SSRF guard (`guard.check_receiver`). Every send raises a `errors.DeliveryError` subclass
that says whether to try again, or returns what the receiver answered."""
