"""Who is looking: sign-in (local users, or a trusted SSO header) and what their role lets them see and do.

Pure functions over settings and headers, no streamlit, so the rules are tested directly; dashboard/auth_ui.py draws
the sign-in form around them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from dashboard.passwords import verify_password
from dashboard.settings import DashboardSettings, DashboardUser

ALL_SCOPE_ROLES = ("admin", "finance")


@dataclass(frozen=True)
class Viewer:
    """A signed-in user. departments/teams limit the rows they see unless all_scopes."""

    name: str
    role: str
    departments: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    via: str = "password"            # password | header | open (sign-in not required)

    @property
    def all_scopes(self) -> bool:
        return self.role in ALL_SCOPE_ROLES or (self.role == "viewer" and not self.departments and not self.teams)

    @property
    def can_export(self) -> bool:
        return self.role in ("admin", "finance", "team_lead")

    @property
    def can_write_back(self) -> bool:
        """Anomaly feedback and recommendation decisions."""
        return self.role in ("admin", "finance", "team_lead")

    @property
    def can_read_audit(self) -> bool:
        return self.role == "admin"

    def scope_label(self) -> str:
        if self.all_scopes:
            return "all"
        parts = [f"department={d}" for d in self.departments] + [f"team={t}" for t in self.teams]
        return ";".join(parts) or "none"


def _viewer(user: DashboardUser, via: str) -> Viewer:
    return Viewer(user.name, user.role, tuple(user.departments), tuple(user.teams), via)


def sign_in(settings: DashboardSettings, name: str, password: str) -> Viewer | None:
    """A local user whose password matches, else None (same answer for unknown user and wrong password)."""
    user = next((u for u in settings.users if u.name == name.strip()), None)
    if user is None or not user.login_hash:
        verify_password(password, _DUMMY_HASH)     # same work either way: the timing does not reveal the name
        return None
    return _viewer(user, "password") if verify_password(password, user.login_hash) else None


def from_headers(settings: DashboardSettings, headers: Mapping[str, str]) -> Viewer | None:
    """The proxy-authenticated user, when trusted-header mode is on and the proxy sent an identity."""
    trusted = settings.trusted_header
    if not trusted.enabled:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    name = lowered.get(trusted.user_header.lower(), "").strip()
    email = lowered.get(trusted.email_header.lower(), "").strip()
    if not name and not email:
        return None
    for user in settings.users:
        if (name and user.name == name) or (email and user.email and user.email.lower() == email.lower()):
            return _viewer(user, "header")
    if trusted.default_role == "viewer":
        # An unknown SSO user sees nothing until listed: a viewer with an empty scope would mean every scope.
        return Viewer(name or email, "viewer", departments=("__no_access__",), via="header")
    return None


def open_access() -> Viewer:
    return Viewer("local", "admin", via="open")


_DUMMY_HASH = ("scrypt$15$8$1$AAAAAAAAAAAAAAAAAAAAAA==$"
               "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")
