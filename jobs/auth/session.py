"""The browser session's cookie: its one name, read by the REST routes (`dashboard/api`) and the pages (`state/`)."""

SESSION_COOKIE = "sg_session"
