"""The Settings page (admins): what the tenant calls home, i.e. its networks, its sensors' addresses and whether the
private ranges count; validated line by line, saved with an audit entry (before and after)."""

from __future__ import annotations

import re
from typing import Any

import reflex as rx

from models.db import session_scope
from models.errors import Invalid
from models.public.tenancy import HomeSettingsPublic
from models.queries import namespaces as namespace_queries
from models.queries import tenancy
from models.queries.audit import record_audit
from models.tenancy import TENANT_DEFAULTS, HomeProblem, check_home
from state.base import AppState, guarded

# One entry per line; a pasted "10.0.0.0/8, 192.168.0.0/16" is read as two entries of that line.
_SEPARATORS = re.compile(r"[,\s]+")
_SHOWN_CHARS = 60


def entries_of(text: str) -> list[tuple[int, str]]:
    """(line number, entry) of every entry in a textarea's text; blank lines are skipped."""
    return [(number, entry) for number, line in enumerate(text.splitlines(), start=1)
            for entry in _SEPARATORS.split(line.strip()) if entry]


def problem_line(problem: HomeProblem, lines: list[int]) -> str:
    """A problem as the page lists it under its field: "line 3 "10.0.0.1/8": host bits are set: …"."""
    if problem.index is None:
        return problem.reason
    value = problem.value if len(problem.value) <= _SHOWN_CHARS else problem.value[:_SHOWN_CHARS] + "…"
    return f'line {lines[problem.index]} "{value}": {problem.reason}'


def _checked(value: Any) -> bool:
    # A checkbox in a form submits "on" when ticked and nothing when not; its ref (when it has an id) gives a bool.
    return value is True or value == "on"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


class SettingsState(AppState):
    networks_text: str = ""
    sensors_text: str = ""
    home_private: bool = True
    network_problems: list[str] = []
    sensor_problems: list[str] = []
    message: str = ""
    is_error: bool = False
    # Bumped when the stored settings are shown again, so the form re-reads its default values.
    form_key: int = 0
    # Policies: monitor mode's readiness rule and the minimum observation span of generated policies
    policy_values: dict[str, str] = {}
    policy_problems: dict[str, str] = {}
    policy_message: str = ""

    def _show(self, home: HomeSettingsPublic) -> None:
        self.networks_text, self.sensors_text = "\n".join(home.home_networks), "\n".join(home.sensors)
        self.home_private = home.home_private
        self.network_problems, self.sensor_problems = [], []
        self.form_key += 1

    @rx.event
    @guarded("admin")
    async def load(self) -> None:
        """The tenant's home settings as stored."""
        async with session_scope() as session:
            tenant = await tenancy.get_tenant(session, tenant_id=self._tenant_id)
        self._show(HomeSettingsPublic.of(tenant))
        self.message, self.is_error = "", False
        self._show_policies({k: int(tenant.settings.get(k, TENANT_DEFAULTS[k]))
                             for k in namespace_queries.POLICY_SETTING_RANGES})

    def _show_policies(self, values: dict[str, int]) -> None:
        self.policy_values = {k: str(v) for k, v in values.items()}
        self.policy_problems, self.policy_message = {}, ""

    @rx.event
    @guarded("admin")
    async def save_policies(self, form: dict[str, Any]) -> None:
        """Check the three numbers; save only when all are good (audited)."""
        good, problems = namespace_queries.check_policy_settings({k: str(v) for k, v in form.items()})
        if problems:
            self.policy_problems = problems
            self.policy_message = f"Not saved: {_plural(len(problems), 'field')} to fix (said under each)."
            return
        async with session_scope() as session:
            before, after = await namespace_queries.set_policy_settings(
                session, tenant_id=self._tenant_id, values=good, actor=self.actor)
        self._show_policies(after)
        self.form_key += 1
        self.policy_message = ("Nothing changed: these were already the settings." if after == before else
                               f"Saved: enforce needs {after['readiness_days']} days in monitor and at most "
                               f"{after['readiness_max_open']} open violations; policies observed for less than "
                               f"{after['policy_min_observation_hours']} h carry a warning.")

    @rx.event
    @guarded("admin")
    async def save(self, form: dict[str, Any]) -> None:
        """Check every line; save only when all are good (audited), then show the settings as stored."""
        tenant_id = self._tenant_id
        networks = entries_of(str(form.get("home_networks", "")))
        sensors = entries_of(str(form.get("sensors", "")))
        home_private = _checked(form.get("home_private", form.get("settings_home_private")))
        checked = check_home([e for _, e in networks], [e for _, e in sensors])
        if checked.problems:
            lines = {"home_networks": [n for n, _ in networks], "sensors": [n for n, _ in sensors]}
            said = [(p.field, problem_line(p, lines[p.field])) for p in checked.problems]
            self.network_problems = [text for field, text in said if field == "home_networks"]
            self.sensor_problems = [text for field, text in said if field == "sensors"]
            self.message = f"Not saved: {_plural(len(said), 'line')} to fix (listed under each field)."
            self.is_error = True
            return
        try:
            async with session_scope() as session:
                before = HomeSettingsPublic.of(await tenancy.get_tenant(session, tenant_id=tenant_id))
                tenant = await tenancy.set_home_networks(
                    session, tenant_id=tenant_id, networks=checked.networks, sensors=checked.sensors,
                    home_private=home_private)
                after = HomeSettingsPublic.of(tenant)
                if after != before:
                    await record_audit(session, tenant_id=tenant_id, actor=self.actor, action="tenant.home",
                                       before=before.model_dump(), after=after.model_dump())
        except Invalid as exc:  # the checks above passed, so only a rule they do not know lands here
            self.message, self.is_error = f"Not saved: {exc.message}", True
            return
        self._show(after)
        self.message, self.is_error = self._saved_text(before, after, checked.duplicates), False

    @staticmethod
    def _saved_text(before: HomeSettingsPublic, after: HomeSettingsPublic, duplicates: int) -> str:
        if after == before:
            return "Nothing changed: these were already the settings."
        private = "count" if after.home_private else "do not count"
        dropped = f" {_plural(duplicates, 'duplicate')} dropped." if duplicates else ""
        return (f"Saved: {_plural(len(after.home_networks), 'home network')}, {_plural(len(after.sensors), 'sensor')}; "
                f"the private ranges {private} as home.{dropped} Windows analysed from now on use these; windows "
                "already analysed keep their results until they are analysed again.")
