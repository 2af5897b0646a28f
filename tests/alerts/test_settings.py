"""[alerts] settings: the example sets every field and validates; references and secrets are checked."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from alerts.settings import AlertSettings

EXAMPLE = Path(__file__).resolve().parents[2] / "costwarden.example.toml"


def _fields(model: type[BaseModel], prefix: str = "") -> set[str]:
    paths = set()
    for name, info in model.model_fields.items():
        inner = getattr(info.annotation, "__args__", (info.annotation,))[0]
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            paths |= _fields(inner, f"{prefix}{name}.")
        else:
            paths.add(prefix + name)
    return paths


def _keys(data: dict, prefix: str = "") -> set[str]:
    paths = set()
    for key, value in data.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for item in value:
                paths |= _keys(item, f"{prefix}{key}.")
        elif isinstance(value, dict):
            paths |= _keys(value, f"{prefix}{key}.")
        else:
            paths.add(prefix + key)
    return paths


def test_example_sets_every_alert_setting_and_validates():
    data = tomllib.loads(EXAMPLE.read_text())["alerts"]
    assert not _fields(AlertSettings) - _keys(data), "costwarden.example.toml lacks some [alerts] settings"
    settings = AlertSettings.model_validate(data)
    assert [s.channel for s in settings.subscriptions] == ["mail", "mail", "platform-dingtalk"]


def test_secrets_are_only_names_of_environment_variables():
    secretish = [p for p in _fields(AlertSettings) if any(w in p for w in ("password", "secret", "url", "token"))]
    assert all(p.endswith("_env") or p == "dashboard_url" for p in secretish), secretish


@pytest.mark.parametrize("change, message", [
    ({"subscriptions": [{"name": "s", "role": "finance", "channel": "nope", "recipients": ["a@b.c"]}]},
     "uses channel 'nope', which is not in"),
    ({"subscriptions": [{"name": "s", "role": "finance", "channel": "mail"}]}, "lists no recipients"),
    ({"subscriptions": [{"name": "s", "role": "platform", "channel": "hook", "events": ["anomaly.reopened"]}]},
     "unknown events"),
    ({"channels": [{"name": "hook", "kind": "slack"}]}, "needs url_env"),
    ({"channels": [{"name": "mail", "kind": "email", "smtp_host": "h", "from_address": "a@b.c",
                    "smtp_username": "u"}]}, "needs password_env"),
    ({"cooldown_minutez": 5}, "Extra inputs are not permitted"),
])
def test_mistakes_are_clear_errors(change, message):
    data = {"channels": [{"name": "hook", "kind": "webhook", "url_env": "X"},
                         {"name": "mail", "kind": "email", "smtp_host": "h", "from_address": "a@b.c"}]}
    data.update(change)
    with pytest.raises(ValidationError, match=message):
        AlertSettings.model_validate(data)
