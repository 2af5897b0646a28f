"""The Streamlit app: navigation only. Pages live in dashboard/pages/, data access in dashboard/data.py."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

st.set_page_config(page_title="costwarden", page_icon=":material/savings:", layout="wide")

PAGES = Path(__file__).parent / "pages"
navigation = st.navigation([
    st.Page(PAGES / "overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page(PAGES / "data_health.py", title="Data health", icon=":material/monitor_heart:"),
])
navigation.run()
