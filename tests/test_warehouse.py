"""The SQL runner: dependency order from references, clear errors for cycles and missing headers."""

from __future__ import annotations

import pytest

from costwarden.errors import WarehouseError
from costwarden.warehouse import build_order, discover


def _write(root, layer, name, body):
    (root / layer).mkdir(parents=True, exist_ok=True)
    (root / layer / f"{name}.sql").write_text(body)


def test_files_are_built_after_what_they_reference(tmp_path):
    _write(tmp_path, "marts", "daily", "-- materialized: table\nselect * from intermediate.joined")
    _write(tmp_path, "intermediate", "joined", "-- materialized: view\nselect * from staging.a join staging.b using (x)")
    _write(tmp_path, "staging", "b", "-- materialized: view\nselect 1 as x")
    _write(tmp_path, "staging", "a", "-- materialized: view\n-- reads marts.daily only in this comment\nselect 1 as x")
    order = [r.qualified for r in build_order(discover(tmp_path))]
    assert order.index("staging.a") < order.index("intermediate.joined") < order.index("marts.daily")
    assert order.index("staging.b") < order.index("intermediate.joined")


def test_cycle_is_reported_with_its_path(tmp_path):
    _write(tmp_path, "staging", "a", "-- materialized: view\nselect * from staging.b")
    _write(tmp_path, "staging", "b", "-- materialized: view\nselect * from staging.a")
    with pytest.raises(WarehouseError, match="cycle"):
        build_order(discover(tmp_path))


def test_missing_materialized_header_names_the_file(tmp_path):
    _write(tmp_path, "staging", "a", "select 1")
    with pytest.raises(WarehouseError, match=r"a\.sql has no '-- materialized"):
        discover(tmp_path)
