"""Fixtures for the alerts tests: a fresh warehouse connection and a live webhook listener."""

from __future__ import annotations

import pytest

from costwarden import db
from tests.alerts.servers import WebhookListener


@pytest.fixture
def con(warehouse):
    connection = db.connect(warehouse)   # applies sql/schema, including alerts.sql
    yield connection
    connection.close()


@pytest.fixture
def listener():
    server = WebhookListener().start()
    yield server
    server.stop()
