"""What every page shares: the signed-in viewer, the pinned reader, the currency, the language, and formatting.

app.py builds the context once per run (one snapshot for the whole page) and pages call `context()`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from costwarden.config import Settings
from dashboard import data, writeback
from dashboard.access import Viewer
from dashboard.i18n import translate

CONTEXT_KEY = "_costwarden_context"


@dataclass
class Context:
    viewer: Viewer
    reader: data.Reader
    currency: str
    language: str
    config: Settings

    def t(self, key: str, **values) -> str:
        return translate(self.language, key, **values)

    def label(self, key: str, **values) -> str:
        """A metric label naming its currency, so the value itself stays short enough for narrow screens."""
        return f"{self.t(key, **values)} ({self.currency})"

    def money(self, value, currency: str | None = None) -> str:
        return money(value, currency or self.currency)

    def audit(self, action: str, page: str, **fields) -> None:
        """Append one audit row (page view, export, feedback, decision) to the write-back file."""
        writeback.record_event(
            writeback.writeback_path(data.warehouse_path(), self.config.dashboard.writeback_file),
            user=self.viewer.name, role=self.viewer.role, via=self.viewer.via, action=action, page=page,
            scope=self.viewer.scope_label(), filters=self.reader.filters.as_dict(),
            snapshot=self.reader.snapshot_name, **fields)


def context() -> Context:
    return st.session_state[CONTEXT_KEY]


def money(value, currency: str) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    return f"{float(value):,.2f} {currency}"


def amount(value, decimals: int = 2) -> str:
    """A money amount without its currency (the label names it). Unit costs use 4 decimals: they are cents."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    return f"{float(value):,.{decimals}f}"


def count(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    return f"{int(value):,}"


def empty(ctx: Context, what_key: str, command: str) -> None:
    """Say what is missing and the command that fills it."""
    st.info(ctx.t("empty", what=ctx.t(what_key), command=command))


def table(ctx: Context, frame: pd.DataFrame, money_columns: tuple[str, ...] = ()) -> None:
    """A dataframe with translated column headers and money columns rounded to cents."""
    shown = frame.copy()
    for column in money_columns:
        if column in shown:
            shown[column] = shown[column].astype(float).round(2)
    if "cost_kind" in shown:     # a value, but one people read as a label: translate it too
        shown["cost_kind"] = shown["cost_kind"].map(lambda kind: ctx.t(f"kind.{kind}", default=kind))
    shown.columns = [ctx.t(f"col.{c}", default=c) for c in shown.columns]
    st.dataframe(shown, width="stretch", hide_index=True)


def problems_table(ctx: Context, frame: pd.DataFrame, none_key: str, help_key: str = "") -> None:
    """A list of problems, or a green line saying there are none."""
    if not len(frame):
        st.success(ctx.t(none_key))
        return
    table(ctx, frame)
    if help_key:
        st.caption(ctx.t(help_key))
