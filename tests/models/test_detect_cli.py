"""`costwarden detect --series`: CSV round trip and one-line errors naming the file, the line and the fix."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from tests.models.series import daily_spend, scaled


def write(path, frame: pd.DataFrame, **renames) -> str:
    out = frame.assign(timestamp=frame["timestamp"].dt.strftime("%Y-%m-%d")).rename(columns=renames)
    out.to_csv(path, index=False)
    return str(path)


def test_round_trip_writes_one_row_per_anomaly(tmp_path, cli):
    source = write(tmp_path / "spend.csv", scaled(daily_spend(150), 100, 3.0, 101))
    code, out, err = cli("detect", "--series", source, "--out", str(tmp_path / "found.csv"))
    assert code == 0 and out == ""
    found = pd.read_csv(tmp_path / "found.csv")
    assert list(found.columns[:10]) == ["series_id", "start", "end", "first_alert_at", "expected", "actual",
                                        "impact", "impact_pct", "score", "severity"]
    alerted = found[found["first_alert_at"].notna()]
    assert alerted["start"].tolist() == ["2024-04-10T00:00:00Z"]
    assert alerted["actual"].iloc[0] > alerted["expected"].iloc[0] and alerted["severity"].iloc[0] == "critical"
    assert "1 series" in err


def test_without_out_the_csv_goes_to_stdout_and_series_ids_are_kept(tmp_path, cli):
    frame = pd.concat([scaled(daily_spend(150), 100, 3.0, 101).assign(series_id="team-a"),
                       daily_spend(150, seed=3).assign(series_id="team-b")])
    code, out, _ = cli("detect", "--series", write(tmp_path / "s.csv", frame))
    found = pd.read_csv(io.StringIO(out))
    assert code == 0 and set(found.loc[found["first_alert_at"].notna(), "series_id"]) == {"team-a"}


def test_short_series_is_stated_not_alerted(tmp_path, cli):
    code, out, err = cli("detect", "--series", write(tmp_path / "s.csv", daily_spend(10)))
    assert code == 0 and pd.read_csv(io.StringIO(out)).empty
    assert "has 10 points" in err and "none was raised" in err


@pytest.mark.parametrize("mutate, message", [
    (lambda f: f.drop(columns=["value"]), "has no column 'value'"),
    (lambda f: f.assign(timestamp=f["timestamp"].where(f.index != 4, "yesterday")), "line 6: timestamp 'yesterday'"),
    (lambda f: f.assign(value=f["value"].astype(object).where(f.index != 2, "12 USD")), "line 4: value '12 USD'"),
    (lambda f: f.drop(index=[5]).assign(timestamp=lambda g: g["timestamp"].where(g.index != 9, "2024-01-10T07:00:00")),
     "not regularly sampled"),
    (lambda f: pd.concat([f, f.iloc[[3]]]), "appears twice"),
])
def test_bad_input_is_one_line_naming_the_file_and_the_fix(tmp_path, cli, mutate, message):
    frame = daily_spend(30)
    frame = frame.assign(timestamp=frame["timestamp"].dt.strftime("%Y-%m-%d"))
    path = tmp_path / "bad.csv"
    mutate(frame).to_csv(path, index=False)
    code, out, err = cli("detect", "--series", str(path))
    assert code == 1 and err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert str(path) in err and message in err and "Traceback" not in err


def test_missing_file_is_a_clear_error(tmp_path, cli):
    code, _, err = cli("detect", "--series", str(tmp_path / "nope.csv"))
    assert code == 1 and "does not exist" in err


def test_without_series_on_an_unbuilt_warehouse_it_says_what_to_run(cli):
    code, _, err = cli("detect")
    assert code == 1 and "costwarden build" in err and "--series" in err and len(err.strip().splitlines()) == 1
