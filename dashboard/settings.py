"""[dashboard] settings: who may sign in, how, and what each role may see. No streamlit here (config imports it)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Role = Literal["admin", "finance", "team_lead", "viewer"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DashboardUser(_Strict):
    # Sign-in name (local sign-in), or the value the SSO proxy sends in the user header (trusted-header mode).
    name: str
    # E-mail address; in trusted-header mode a user is also found by the e-mail header.
    email: str = ""
    # Password hash from `costwarden dashboard hash-password` (scrypt). Empty: this user cannot sign in with a
    # password (trusted-header only). Never the clear password.
    login_hash: str = ""
    # admin (everything, plus the audit log) | finance (every scope) | team_lead (their departments and teams) |
    # viewer (read-only: no exports, no feedback, no decisions; the scopes below, or every scope when none given).
    role: Role = "viewer"
    # Departments and teams whose rows this user sees (team_lead and viewer). A row is visible when its department
    # is listed OR its team is listed.
    departments: list[str] = Field(default_factory=list)
    teams: list[str] = Field(default_factory=list)

    @field_validator("login_hash")
    @classmethod
    def _hash_not_clear_text(cls, value: str) -> str:
        if value and not value.startswith("scrypt$"):
            raise ValueError("must be a hash from `costwarden dashboard hash-password`, never the clear password")
        return value


class TrustedHeaderSettings(_Strict):
    # Trust the identity an SSO reverse proxy (oauth2-proxy, Pomerium, ...) puts in request headers. Enable ONLY
    # when the dashboard is reachable solely through that proxy (bind it to 127.0.0.1 or a private network):
    # anyone who can reach Streamlit directly could send the header themselves.
    enabled: bool = False
    # Header holding the signed-in user's name.
    user_header: str = "X-Forwarded-User"
    # Header holding the signed-in user's e-mail address.
    email_header: str = "X-Forwarded-Email"
    # Role of a proxy-authenticated user who is not listed in [[dashboard.users]]; "none" refuses them.
    default_role: Literal["none", "viewer"] = "none"


class DashboardSettings(_Strict):
    # Require a sign-in. false is for a single-user laptop only: everyone is an admin.
    require_sign_in: bool = True
    # Folder of the read-only snapshots the dashboard serves (each build publishes one). Empty: beside the
    # warehouse, <warehouse>.snapshots/.
    snapshot_dir: str = ""
    # Snapshots kept after publishing a new one (readers of an older one finish undisturbed).
    keep_snapshots: int = Field(default=3, ge=1)
    # DuckDB file for the dashboard's own writes (audit log, anomaly feedback, recommendation decisions); the next
    # build imports feedback and decisions from it. Empty: <warehouse>.dashboard.duckdb beside the warehouse.
    writeback_file: str = ""
    # Language of a new session: en | zh (简体中文). Each user can switch in the sidebar.
    default_language: Literal["en", "zh"] = "en"
    # Local users and the roles of SSO users.
    users: list[DashboardUser] = Field(default_factory=list)
    trusted_header: TrustedHeaderSettings = Field(default_factory=TrustedHeaderSettings)
