"""Ingestors: one module per source format, each turning files (or a database) into raw.* rows with a load id.

`ingest.registry` finds them; `ingest.runner` runs one inside a single transaction and reports the counts.
"""
