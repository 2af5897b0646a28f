"""The run's DuckDB connection, with Python objects bound per statement instead of registered as views.

Why: `DuckDBPyConnection.register()` adds a catalog view, and DuckDB keeps a dropped view (with the Arrow data it
points to) until every transaction that could see it has ended. A load is one transaction, so every batch's data
would stay in memory until commit. DuckDB's replacement scan instead binds a Python object found by name in the
calling frame for one statement only; `execute` runs the statement in a frame whose names are the registered
objects, so ingestors keep writing `con.register(name, table)` and `from {name}` as usual.
"""

from __future__ import annotations

import duckdb

_RUN = "__result = __con.execute(__query, __params)"


class RunConnection:
    def __init__(self, con: duckdb.DuckDBPyConnection):
        self._con = con
        self._objects: dict[str, object] = {}

    @property
    def raw(self) -> duckdb.DuckDBPyConnection:
        return self._con

    def register(self, name: str, obj: object) -> None:
        self._objects[name] = obj

    def unregister(self, name: str) -> None:
        self._objects.pop(name, None)

    def execute(self, query: str, parameters=None):
        if not self._objects:
            return self._con.execute(query, parameters)
        scope = dict(self._objects)
        scope.update(__con=self._con, __query=query, __params=parameters)
        exec(_RUN, scope)  # noqa: S102 - fixed code; only the frame's names vary (see module docstring)
        return scope["__result"]

    def __getattr__(self, name: str):
        return getattr(self._con, name)
