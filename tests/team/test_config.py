"""The team service's configuration: clear errors for bad input, secrets from the environment, and no
secret in any text the configuration can be turned into."""

from __future__ import annotations

from pathlib import Path

import pytest

from epay_desktop.team.__main__ import main as team_main
from epay_desktop.team.config import ConfigError, load_config, parse_config

ENTRY = {
    "msn": "123456",
    "environment": "test",
    "client_id": "id",
    "client_secret_env": "S",
    "subscription_key": "k",
}


def test_secrets_come_from_the_environment_and_never_show_in_repr() -> None:
    config = parse_config(
        {"database": "host=db password=hunter22", "merchants": [ENTRY]}, {"S": "s3cret-value"}
    )
    (merchant,) = config.merchants
    assert merchant.credentials.client_secret == "s3cret-value"
    assert merchant.environment.kind == "test"
    for text in (repr(config), str(config)):
        assert "s3cret-value" not in text
        assert "hunter22" not in text


def test_the_database_from_the_environment_wins_over_the_file() -> None:
    config = parse_config(
        {"database": "host=file", "merchants": [ENTRY]}, {"S": "x", "EPAY_TEAM_DATABASE": "host=env"}
    )
    assert config.database == "host=env"


@pytest.mark.parametrize(
    ("data", "env", "says"),
    [
        ({"merchants": [ENTRY]}, {"S": "x"}, "no database"),
        ({"database": "d"}, {}, "no merchants"),
        ({"database": "d", "merchants": [ENTRY]}, {}, "client_secret_env names 'S'"),
        (
            {"database": "d", "merchants": [{**ENTRY, "msn": "12"}]},
            {"S": "x"},
            "merchant 1: a merchant serial",
        ),
        ({"database": "d", "merchants": [ENTRY, ENTRY]}, {"S": "x"}, "listed twice"),
        ({"database": "d", "merchants": [{**ENTRY, "environment": "prod"}]}, {"S": "x"}, "not 'prod'"),
        ({"database": "d", "merchants": [{**ENTRY, "subscription_key": ""}]}, {"S": "x"}, "subscription_key"),
    ],
)
def test_bad_configuration_is_refused_saying_what_and_where(
    data: dict[str, object], env: dict[str, str], says: str
) -> None:
    with pytest.raises(ConfigError, match=says):
        parse_config(data, env)


def test_an_unreadable_file_is_a_clear_error_and_a_nonzero_exit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "team.toml"
    broken.write_text("database = [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken, {})
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml", {})
    assert team_main(["migrate", "--config", str(broken)]) == 2
    assert "not valid TOML" in capsys.readouterr().err


def test_the_approval_threshold_and_lifetime_are_read_and_checked() -> None:
    from datetime import timedelta

    from epay_desktop.domain import Currency, Money

    entry = {**ENTRY, "approval_threshold": {"value": 500000, "currency": "NOK"}}
    config = parse_config({"database": "d", "approval_hours": 0.5, "merchants": [entry]}, {"S": "x"})
    assert config.approval_thresholds == {"123456": Money(500000, Currency.NOK)}
    assert config.approval_lifetime == timedelta(minutes=30)
    plain = parse_config({"database": "d", "merchants": [ENTRY]}, {"S": "x"})
    assert plain.approval_thresholds == {}
    assert plain.approval_lifetime == timedelta(hours=24)
    for bad, says in (
        ({"value": "5000", "currency": "NOK"}, "integer value"),
        ({"value": 5000, "currency": "SEK"}, "known currency"),
        ({"value": -1, "currency": "NOK"}, "negative"),
        ({"value": 5000}, "approval_threshold is"),
        (5000, "approval_threshold is"),
    ):
        with pytest.raises(ConfigError, match=says):
            parse_config({"database": "d", "merchants": [{**ENTRY, "approval_threshold": bad}]}, {"S": "x"})
    for hours in (0, -2, "24", True, float("inf")):
        with pytest.raises(ConfigError, match="approval_hours"):
            parse_config({"database": "d", "approval_hours": hours, "merchants": [ENTRY]}, {"S": "x"})
