"""Config: the example file documents every setting, env overrides the file, errors are one clear line."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from costwarden.config import Settings, load_settings
from costwarden.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parent.parent / "costwarden.example.toml"


def _setting_paths(model: type[BaseModel], prefix: str = "") -> set[str]:
    paths = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        inner = getattr(annotation, "__args__", (annotation,))[0] if getattr(annotation, "__origin__", None) is list \
            else annotation
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            paths |= _setting_paths(inner, f"{prefix}{name}.")
        else:
            paths.add(prefix + name)
    return paths


def _dict_fields(model: type[BaseModel]) -> set[str]:
    """Names of settings whose value is a table (dict): in the file they are one setting, not a section."""
    names = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if getattr(annotation, "__origin__", None) is dict:
            names.add(name)
        inner = getattr(annotation, "__args__", (annotation,))[0] if getattr(annotation, "__origin__", None) is list \
            else annotation
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            names |= _dict_fields(inner)
    return names


DICT_FIELDS = _dict_fields(Settings)


def _file_paths(data: dict, prefix: str = "") -> set[str]:
    paths = set()
    for key, value in data.items():
        if isinstance(value, dict) and key not in DICT_FIELDS:
            paths |= _file_paths(value, f"{prefix}{key}.")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for item in value:
                paths |= _file_paths(item, f"{prefix}{key}.")
        else:
            paths.add(prefix + key)
    return paths


def test_example_file_sets_every_setting_and_loads():
    data = tomllib.loads(EXAMPLE.read_text())
    missing = _setting_paths(Settings) - _file_paths(data)
    assert not missing, f"costwarden.example.toml lacks: {sorted(missing)}"
    assert load_settings(EXAMPLE, environ={}).sources[0].format == "cur2"


def test_environment_overrides_the_file(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('warehouse = "from-file.duckdb"\n[ingest]\nmemory_limit = "1GB"\n')
    settings = load_settings(config, environ={"COSTWARDEN_INGEST__MEMORY_LIMIT": "3GB",
                                              "COSTWARDEN_HASH_SALT": "not-a-setting"})
    assert settings.warehouse == "from-file.duckdb" and settings.ingest.memory_limit == "3GB"


def test_typo_in_config_is_one_clear_error(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[ingest]\nunknown_modles = 'flag'\n")
    with pytest.raises(ConfigError, match=r"ingest.unknown_modles.*costwarden.example.toml"):
        load_settings(config, environ={})


def test_missing_config_file_says_what_to_do(tmp_path):
    with pytest.raises(ConfigError, match="does not exist. Copy costwarden.example.toml"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_secrets_are_not_settings():
    # Nothing in the settings model can hold a password or webhook URL directly: only *_env names.
    secretish = [p for p in _setting_paths(Settings) if any(w in p for w in ("password", "secret", "webhook"))]
    assert all(p.endswith("_env") for p in secretish), secretish
