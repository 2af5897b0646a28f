"""SQL models: schema/ (DDL), staging/ (rename + cast), intermediate/ (joins, allocation), marts/, audits/.

A Python package only so the files ship with the installed product (importlib.resources finds them).
"""
