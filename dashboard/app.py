"""The Streamlit app: sign-in, global filters, navigation. Pages live in dashboard/pages/, data access in
dashboard/data.py (through dashboard/scope.py), labels in dashboard/i18n.py.

Each run pins one published snapshot (dashboard/snapshot.py) for the whole page, so a build publishing a new one
mid-render never mixes two builds' numbers.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import streamlit as st

from costwarden.errors import CostwardenError
from dashboard import auth_ui, data, ui
from dashboard.i18n import LANGUAGES, translate

st.set_page_config(page_title="costwarden", page_icon=":material/savings:", layout="wide")

try:
    config = data.settings()
except CostwardenError as exc:
    st.error(str(exc))
    st.stop()

language = st.session_state.setdefault("language", config.dashboard.default_language)
viewer = auth_ui.current_viewer(config, language)


def t(key: str, **values) -> str:
    return translate(language, key, **values)


with st.sidebar:
    st.selectbox(t("filter.language"), list(LANGUAGES), format_func=LANGUAGES.get, key="language")
    st.caption(t("signed_in_as", user=viewer.name, role=t(f"role.{viewer.role}"),
                 scope=t("scope.all") if viewer.all_scopes else viewer.scope_label()))
    if st.button(t("sign_out"), key="sign_out"):
        auth_ui.sign_out()
        st.rerun()

try:
    base = data.reader(viewer, config)
except CostwardenError as exc:
    st.title("costwarden")
    st.warning(str(exc))
    st.stop()

options = data.filter_options(base)
url = st.query_params


def _url_list(name: str) -> tuple[str, ...]:
    return tuple(v for v in url.get_all(name) if v)


def _url_date(name: str) -> date | None:
    try:
        return date.fromisoformat(url.get(name, ""))
    except ValueError:
        return None


with st.sidebar:
    st.subheader(t("filters"))
    first, last = options["days"]
    period = st.date_input(t("filter.dates"), value=(_url_date("start") or first, _url_date("end") or last)
                           if first is not None else (), key="filter_dates")
    environments = st.multiselect(t("filter.environment"), options["environment"], key="filter_environment")
    regions = st.multiselect(t("filter.region"), options["region"], key="filter_region")
    departments = st.multiselect(t("filter.department"), options["department"], key="filter_department")
    teams = st.multiselect(t("filter.team"), options["team"], key="filter_team")
    currencies = options["currencies"] or [config.reporting_currency]
    preferred = config.reporting_currency if config.reporting_currency in currencies else currencies[0]
    currency = st.selectbox(t("filter.currency"), currencies, index=currencies.index(preferred),
                            key="filter_currency")

start, end = (tuple(period) + (None, None))[:2] if isinstance(period, (tuple, list)) else (period, period)
# URL parameters (?department=..&team=..) add to the widgets' choices; scope.py keeps them inside the viewer's scope
filters = data.Filters(start=start, end=end, environments=tuple(environments) + _url_list("environment"),
                       regions=tuple(regions) + _url_list("region"),
                       departments=tuple(departments) + _url_list("department"),
                       teams=tuple(teams) + _url_list("team"))
reader = data.Reader(viewer, base.path, filters)
st.session_state[ui.CONTEXT_KEY] = ui.Context(viewer, reader, currency, language, config)

PAGES = Path(__file__).parent / "pages"
# (file stem = url path = audit page name, icon); the title comes from the strings table
PAGE_LIST = [("overview", ":material/dashboard:"), ("attribution", ":material/account_tree:"),
             ("unit_economics", ":material/calculate:"), ("models_latency", ":material/speed:"),
             ("anomalies", ":material/warning:"), ("budgets", ":material/savings:"),
             ("recommendations", ":material/lightbulb:"), ("reports", ":material/download:"),
             ("data_health", ":material/monitor_heart:")]
if viewer.can_read_audit:
    PAGE_LIST.append(("audit_log", ":material/policy:"))
pages = [st.Page(PAGES / f"{stem}.py", url_path=stem, title=t(f"page.{stem}"), icon=icon, default=stem == "overview")
         for stem, icon in PAGE_LIST]
navigation = st.navigation(pages)

# Audit: one row per page view (a page, or its filters, changing), not per widget rerun.
seen = (navigation.url_path, repr(filters), currency)
if st.session_state.get("_last_view") != seen:
    st.session_state["_last_view"] = seen
    ui.context().audit("view", navigation.url_path or "overview")   # the default page has no path
navigation.run()
