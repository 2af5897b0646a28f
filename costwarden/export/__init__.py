"""Exports finance loads anywhere (FOCUS 1.2 chargeback and bill, CSV / Parquet / XLSX) and the month-close ledger.

exports.py: `costwarden export chargeback|focus`; ledger.py: `costwarden close`; writers.py: exact decimals in
every file format; months.py: the YYYY-MM month and the checks both share.
"""
