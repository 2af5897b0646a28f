"""The CLI: --help everywhere, one-line errors, read-only queries in three formats."""

from __future__ import annotations

import json

import pytest

from costwarden.cli import build_parser
from tests.factories import write_bedrock_logs

SUBCOMMANDS = sorted(build_parser()._subparsers._group_actions[0].choices)


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([command, "--help"])
    assert exit_info.value.code == 0
    assert len(capsys.readouterr().out.splitlines()) >= 3


def test_query_before_any_load_is_one_clear_error(cli):
    code, out, err = cli("query", "select 1")
    assert code == 1 and err.startswith("error: warehouse") and "costwarden demo" in err
    assert "Traceback" not in err


def test_query_is_read_only_and_prints_csv_and_json(tmp_path, cli):
    write_bedrock_logs(tmp_path / "logs", hours=1, per_hour=3)
    assert cli("ingest", str(tmp_path / "logs"))[0] == 0
    code, out, _ = cli("query", "select count(*) as n from raw.inference_requests", "--format", "csv")
    assert (code, out.splitlines()) == (0, ["n", "3"])
    code, out, _ = cli("query", "select sum(input_tokens) as t from raw.inference_requests", "--format", "json")
    assert code == 0 and json.loads(out)[0]["t"] > 0
    code, _, err = cli("query", "delete from raw.inference_requests")
    assert code == 1 and "read-only" in err.lower()
    code, _, err = cli("query", "select * from read_csv('/etc/passwd')")
    assert code == 1 and err.startswith("error: query failed")


def test_loads_and_quarantine_list_what_happened(tmp_path, cli):
    write_bedrock_logs(tmp_path / "logs", hours=1, per_hour=2)
    (tmp_path / "logs" / "AWSLogs" / "x.json").write_text('{"requestId": "r1"}\nnot json\n')
    cli("ingest", str(tmp_path / "logs"), "--format", "bedrock")
    code, out, _ = cli("loads")
    assert code == 0 and "bedrock" in out
    code, out, _ = cli("quarantine")
    assert code == 0 and "not valid JSON" in out and "missing" in out


def test_unknown_format_is_a_usage_error(tmp_path, cli):
    code, _, err = cli("ingest", str(tmp_path), "--format", "nonsense")
    assert code == 2 and "Known formats" in err


def test_undetectable_source_says_to_pass_format(tmp_path, cli):
    (tmp_path / "notes.txt").write_text("hello")
    code, _, err = cli("ingest", str(tmp_path))
    assert code == 1 and "--format" in err


def test_help_of_every_subcommand_renders():
    # argparse %-formats help strings: a stray "80% interval" breaks `costwarden --help` for everyone.
    import contextlib
    import io

    from costwarden.cli import build_parser

    parser = build_parser()
    commands = [a for a in parser._subparsers._group_actions[0].choices]  # noqa: SLF001 - argparse has no API
    assert len(commands) > 8
    for argv in [["--help"]] + [[c, "--help"] for c in commands]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as done:
            parser.parse_args(argv)
        assert done.value.code == 0, argv
        assert "usage:" in out.getvalue()
