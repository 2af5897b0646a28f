"""Sign-in rules: scrypt hashes, local users, the trusted SSO header only when enabled, roles and scopes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dashboard import access
from dashboard.passwords import hash_password, verify_password
from dashboard.settings import DashboardSettings, DashboardUser


@pytest.fixture(scope="module")
def settings() -> DashboardSettings:
    return DashboardSettings(users=[
        DashboardUser(name="maria", email="maria@acme.example", login_hash=hash_password("correct horse", log2_n=12),
                      role="finance"),
        DashboardUser(name="lee", email="Lee@Acme.example", login_hash="", role="team_lead",
                      departments=["product"], teams=["search"]),
    ])


def test_hash_round_trip_and_salting():
    first, second = hash_password("s3cret-pass", log2_n=12), hash_password("s3cret-pass", log2_n=12)
    assert first != second                          # a fresh salt each time
    assert verify_password("s3cret-pass", first) and verify_password("s3cret-pass", second)
    assert not verify_password("s3cret-Pass", first)
    for broken in ("", "scrypt$", "bcrypt$x", "scrypt$99$8$1$AA==$AA==", first[:-8]):
        assert verify_password("s3cret-pass", broken) is False


def test_clear_text_password_in_the_config_is_refused():
    with pytest.raises(ValidationError, match="hash-password"):
        DashboardUser(name="x", login_hash="hunter2")


def test_local_sign_in(settings):
    viewer = access.sign_in(settings, "maria", "correct horse")
    assert viewer == access.Viewer("maria", "finance", (), (), "password")
    assert viewer.all_scopes and viewer.can_export
    assert access.sign_in(settings, "maria", "wrong") is None
    assert access.sign_in(settings, "nobody", "correct horse") is None
    assert access.sign_in(settings, "lee", "") is None          # SSO-only user: no password sign-in


def test_trusted_header_is_ignored_unless_enabled(settings):
    assert access.from_headers(settings, {"X-Forwarded-User": "maria"}) is None
    on = settings.model_copy(update={"trusted_header": settings.trusted_header.model_copy(update={"enabled": True})})
    assert access.from_headers(on, {"x-forwarded-user": "maria"}).role == "finance"
    lee = access.from_headers(on, {"X-Forwarded-Email": "lee@acme.example"})
    assert (lee.role, lee.departments, lee.teams, lee.via) == ("team_lead", ("product",), ("search",), "header")
    assert not lee.all_scopes
    assert access.from_headers(on, {"X-Forwarded-User": "stranger"}) is None        # default_role none
    assert access.from_headers(on, {}) is None


def test_unknown_sso_user_as_viewer_sees_nothing(settings):
    trusted = settings.trusted_header.model_copy(update={"enabled": True, "default_role": "viewer"})
    stranger = access.from_headers(settings.model_copy(update={"trusted_header": trusted}),
                                   {"X-Forwarded-User": "stranger"})
    assert stranger.role == "viewer" and not stranger.all_scopes and not stranger.can_export


def test_role_permissions():
    lead = access.Viewer("l", "team_lead", ("product",))
    viewer = access.Viewer("v", "viewer")
    assert not lead.all_scopes and lead.can_export and lead.can_write_back and not lead.can_read_audit
    assert viewer.all_scopes and not viewer.can_export and not viewer.can_write_back
    assert access.Viewer("a", "admin").can_read_audit
    assert lead.scope_label() == "department=product"


def test_demo_users_sign_in_with_their_documented_passwords():
    from dashboard.demo_users import DEMO_USERS, config_lines
    import tomllib

    config = DashboardSettings.model_validate(tomllib.loads("\n".join(config_lines()))["dashboard"])
    for name, password, role, departments, teams in DEMO_USERS:
        viewer = access.sign_in(config, name, password)
        assert viewer is not None and viewer.role == role and viewer.departments == departments
        assert viewer.teams == teams
