"""The sign-in screen and the signed-in user, around the pure rules in dashboard/access.py."""

from __future__ import annotations

import streamlit as st

from costwarden.config import Settings
from dashboard import access, data, writeback
from dashboard.i18n import translate

VIEWER_KEY = "viewer"


def _audit_sign_in(config: Settings, name: str, viewer: access.Viewer | None) -> None:
    try:
        writeback.record_event(writeback.writeback_path(data.warehouse_path(), config.dashboard.writeback_file),
                               user=viewer.name if viewer else name[:100], role=viewer.role if viewer else "-",
                               via=viewer.via if viewer else "password",
                               action="sign_in" if viewer else "sign_in_failed", page="sign-in",
                               scope=viewer.scope_label() if viewer else "none")
    except Exception:   # noqa: BLE001 - a busy audit file must not lock people out; the page views still record
        pass


def current_viewer(config: Settings, language: str) -> access.Viewer:
    """The signed-in viewer; draws the sign-in form and stops the run when there is none."""
    viewer = st.session_state.get(VIEWER_KEY)
    if viewer is not None:
        return viewer
    dash = config.dashboard
    if not dash.require_sign_in:
        viewer = access.open_access()
    else:
        viewer = access.from_headers(dash, dict(st.context.headers or {}))
    if viewer is not None:
        st.session_state[VIEWER_KEY] = viewer
        return viewer
    _sign_in_form(config, language)
    st.stop()


def _sign_in_form(config: Settings, language: str) -> None:
    t = lambda key, **v: translate(language, key, **v)   # noqa: E731
    st.title(t("signin.title"))
    if config.dashboard.trusted_header.enabled:
        st.caption(t("signin.sso_hint"))
    if not config.dashboard.users:
        st.warning(t("signin.no_users"))
        return
    with st.form("signin"):
        name = st.text_input(t("signin.user"), key="signin_user")
        password = st.text_input(t("signin.password"), type="password", key="signin_password")
        submitted = st.form_submit_button(t("signin.submit"))
    if submitted:
        viewer = access.sign_in(config.dashboard, name, password)
        _audit_sign_in(config, name, viewer)
        if viewer is None:
            st.error(t("signin.failed"))
            return
        st.session_state[VIEWER_KEY] = viewer
        st.rerun()


def sign_out() -> None:
    for key in list(st.session_state.keys()):
        del st.session_state[key]
