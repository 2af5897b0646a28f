"""Data health: recent loads with their counts, and quarantined rows by reason."""

from __future__ import annotations

import streamlit as st

from dashboard import data

st.title("Data health")
st.subheader("Recent loads")
st.caption("Every run: read = loaded + quarantined; skipped rows were already loaded.")
st.dataframe(data.recent_loads(), use_container_width=True, hide_index=True)
st.subheader("Quarantined rows by reason")
quarantine = data.quarantine_summary()
if len(quarantine):
    st.dataframe(quarantine, use_container_width=True, hide_index=True)
else:
    st.success("No quarantined rows.")
st.subheader("Alert delivery failures")
failures = data.delivery_failures()
if len(failures):
    st.dataframe(failures, use_container_width=True, hide_index=True)
else:
    st.success("Every alert was delivered (or none was due).")
