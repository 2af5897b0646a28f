"""Chargeback files from a frame of dashboard.data.chargeback rows: CSV, Excel and FOCUS-shaped CSV.

Money stays exact as text with its full scale in CSV; Excel cells get the value rounded to the cent (Excel has no
decimal type) and the exact value in a text column beside it.
"""

from __future__ import annotations

import io
from decimal import Decimal

import pandas as pd

MONEY = ("billed_cost", "effective_cost", "estimated_cost_usd")


def _exact(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in MONEY:
        if column in out:
            out[column] = out[column].map(lambda v: "" if pd.isna(v) else format(Decimal(str(v)), "f"))
    return out


def to_csv(frame: pd.DataFrame) -> bytes:
    return _exact(frame).to_csv(index=False).encode("utf-8")


def to_xlsx(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    sheet = frame.copy()
    for column in MONEY:
        if column in sheet:
            sheet[column + "_exact"] = _exact(frame)[column]
            sheet[column] = sheet[column].astype(float).round(2)
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        sheet.to_excel(writer, index=False, sheet_name="chargeback")
    return buffer.getvalue()


def to_focus(frame: pd.DataFrame) -> bytes:
    """FOCUS 1.x column names for the chargeback lines (x_ columns for costwarden's own dimensions)."""
    month_start = pd.to_datetime(frame["month"] + "-01")
    focus = pd.DataFrame({
        "BillingPeriodStart": month_start.dt.strftime("%Y-%m-%dT00:00:00Z"),
        "BillingPeriodEnd": (month_start + pd.offsets.MonthBegin(1)).dt.strftime("%Y-%m-%dT00:00:00Z"),
        "ChargePeriodStart": month_start.dt.strftime("%Y-%m-%dT00:00:00Z"),
        "ChargePeriodEnd": (month_start + pd.offsets.MonthBegin(1)).dt.strftime("%Y-%m-%dT00:00:00Z"),
        "BillingCurrency": frame["billing_currency"],
        "BilledCost": _exact(frame)["billed_cost"],
        "EffectiveCost": _exact(frame)["effective_cost"],
        "ChargeCategory": "Usage",
        "ChargeDescription": "costwarden chargeback: " + frame["cost_kind"],
        "RegionId": frame["region"].fillna(""),
        "x_Department": frame["department"],
        "x_Team": frame["team"],
        "x_Agent": frame["agent"].fillna(""),
        "x_Model": frame["model"].fillna(""),
        "x_Environment": frame["environment"].fillna(""),
        "x_CostKind": frame["cost_kind"],
    })
    return focus.to_csv(index=False).encode("utf-8")
