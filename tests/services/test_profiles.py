from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from epay_desktop.domain import Currency, Money
from epay_desktop.sandbox import SandboxConfig, create_app
from epay_desktop.services import (
    DEMO_PROFILE,
    DEMO_SECRETS,
    Profile,
    ProfileError,
    ProfileKind,
    ProfileSecrets,
    ProfileStore,
    ProfileStoreError,
    SecretStore,
    register_path,
    test_connection,
)
from epay_desktop.store import IntentStatus, Operation, Store
from tests.services.keyrings import LockedKeyring, MemoryKeyring

SECRETS = ProfileSecrets("s3cr3t-client-value", "sub-key-value-123")
SHOP = Profile("Fjordkaffe test", ProfileKind.TEST, "123456", "client-abc")


def test_profiles_are_saved_without_secrets_and_demo_is_built_in(app_home: Path) -> None:
    store = ProfileStore()
    assert store.list() == [DEMO_PROFILE]
    store.save(SHOP)
    custom = Profile(
        "Training room",
        ProfileKind.CUSTOM,
        "223344",
        "demo-client",
        "http://10.0.0.5:8080",
        unencrypted_sandbox=True,
    )
    store.save(custom)
    assert [p.name for p in store.list()] == ["Demo", "Fjordkaffe test", "Training room"]
    assert store.get("Training room").effective_base_url == "http://10.0.0.5:8080"
    assert store.get("Fjordkaffe test").effective_base_url == "https://apitest.vipps.no"
    text = store.path.read_text(encoding="utf-8")
    assert store.path.parent == app_home / "config"
    assert "secret" not in text.lower()

    renamed = Profile("Fjordkaffe MT", ProfileKind.TEST, "123456", "client-abc")
    store.save(renamed, replacing="Fjordkaffe test")
    assert [p.name for p in store.list()] == ["Demo", "Training room", "Fjordkaffe MT"]
    store.set_last_used("Training room")
    store.delete("Training room")
    assert store.last_used == "Demo"
    with pytest.raises(ProfileError, match="built in"):
        store.delete("Demo")


@pytest.mark.parametrize(
    ("profile", "match"),
    [
        (Profile("", ProfileKind.TEST, "123456", "c"), "needs a name"),
        (Profile("x", ProfileKind.TEST, "12", "c"), "4 to 10 digits"),
        (Profile("x", ProfileKind.PRODUCTION, "123456", ""), "client id"),
        (Profile("x", ProfileKind.CUSTOM, "123456", "c", "ftp://nope"), "base URL"),
        (Profile("x", ProfileKind.CUSTOM, "123456", "c", None), "base URL"),
    ],
)
def test_invalid_profiles_are_refused_with_the_field_named(profile: Profile, match: str) -> None:
    with pytest.raises(ProfileError, match=match):
        ProfileStore().save(profile)


def test_a_damaged_profiles_file_is_reported_and_left_alone(app_home: Path) -> None:
    store = ProfileStore()
    store.path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ProfileStoreError, match="cannot be read"):
        store.list()
    with pytest.raises(ProfileStoreError):
        store.save(SHOP)
    assert store.path.read_text(encoding="utf-8") == "{not json"


def test_register_paths_are_per_profile_and_safe(app_home: Path) -> None:
    a = register_path(Profile("Shop/../../etc", ProfileKind.TEST, "123456", "c"))
    b = register_path(Profile("Shop ..etc", ProfileKind.TEST, "123456", "c"))
    assert a.parent == b.parent == app_home / "data" / "registers"
    assert a != b
    assert "/" not in a.name
    assert register_path(DEMO_PROFILE).name == "Demo.sqlite3"


def test_secrets_go_to_the_keyring(memory_keyring: MemoryKeyring) -> None:
    secrets = SecretStore()
    assert secrets.persistent
    assert secrets.set(SHOP, SECRETS) is True
    assert memory_keyring.passwords == {
        ("epay-desktop", "Fjordkaffe test:client_secret"): SECRETS.client_secret,
        ("epay-desktop", "Fjordkaffe test:subscription_key"): SECRETS.subscription_key,
    }
    assert SecretStore().get(SHOP) == SECRETS  # another session finds them
    assert SECRETS.client_secret not in repr(SECRETS)
    secrets.delete(SHOP)
    secrets.delete(SHOP)  # deleting what is gone is fine
    assert secrets.get(SHOP) is None
    assert secrets.get(DEMO_PROFILE) == DEMO_SECRETS


def test_without_a_keyring_secrets_live_for_the_session_only() -> None:
    # conftest selects keyring's fail backend: no keyring on this box.
    secrets = SecretStore()
    assert not secrets.persistent
    assert "session only" in secrets.problem
    assert secrets.set(SHOP, SECRETS) is False
    assert secrets.get(SHOP) == SECRETS
    assert SecretStore().get(SHOP) is None  # gone with the session


def test_a_keyring_that_fails_falls_back_to_the_session() -> None:
    secrets = SecretStore(LockedKeyring())
    assert secrets.persistent
    assert secrets.set(SHOP, SECRETS) is False
    assert not secrets.persistent
    assert "KeyringLocked" in secrets.problem
    assert secrets.get(SHOP) == SECRETS


@pytest.mark.anyio
async def test_connection_succeeds_against_the_sandbox_and_fails_in_words() -> None:
    transport = httpx.ASGITransport(app=create_app(SandboxConfig(data="empty")))
    ok, message = await test_connection(DEMO_PROFILE, DEMO_SECRETS, transport=transport)
    assert ok, message
    assert "access token" in message

    ok, message = await test_connection(SHOP, None)
    assert not ok
    assert "client secret and subscription key" in message

    nowhere = Profile("Nowhere", ProfileKind.CUSTOM, "123456", "c", "http://127.0.0.1:9")
    ok, message = await test_connection(nowhere, SECRETS)
    assert not ok
    assert message.startswith("Connection to http://127.0.0.1:9 failed")
    assert SECRETS.client_secret not in message


def test_profiles_file_shape(app_home: Path) -> None:
    store = ProfileStore()
    store.save(SHOP)
    data = json.loads(store.path.read_text(encoding="utf-8"))
    assert data["profiles"] == [
        {
            "name": "Fjordkaffe test",
            "kind": "test",
            "merchantSerialNumber": "123456",
            "clientId": "client-abc",
            "baseUrl": None,
            "currency": "NOK",
            "register": SHOP.slug,
        }
    ]


def test_the_currency_of_a_demo_profile_follows_its_serial_number() -> None:
    assert DEMO_PROFILE.currency is Currency.NOK
    assert Profile("Demo DK", ProfileKind.DEMO, "223344").currency is Currency.DKK
    # The demo merchant's sales unit decides, whatever is passed.
    assert Profile("Demo FI", ProfileKind.DEMO, "334455", currency=Currency.NOK).currency is Currency.EUR
    with pytest.raises(ProfileError, match="demo serial numbers"):
        Profile("Demo other", ProfileKind.DEMO, "999999").validate()


def test_a_stored_currency_is_kept_validated_and_defaults_to_nok(app_home: Path) -> None:
    store = ProfileStore()
    danish = Profile("Hygge MT", ProfileKind.TEST, "223344", "client-dk", currency=Currency.DKK)
    finnish = Profile("Sauna prod", ProfileKind.PRODUCTION, "334455", "client-fi", currency=Currency.EUR)
    store.save(danish)
    store.save(finnish)
    store.save(SHOP)
    assert SHOP.currency is Currency.NOK
    assert store.get("Hygge MT").currency is Currency.DKK
    assert store.get("Sauna prod").currency is Currency.EUR
    saved = json.loads(store.path.read_text(encoding="utf-8"))["profiles"]
    assert [p["currency"] for p in saved] == ["DKK", "EUR", "NOK"]
    assert Profile("x", ProfileKind.CUSTOM, "1234", "c", "http://h", currency="dkk").currency is Currency.DKK  # type: ignore[arg-type]
    for bad in ("SEK", "", 578):
        with pytest.raises(ProfileError, match="currency must be one of NOK, DKK, EUR"):
            Profile("x", ProfileKind.TEST, "1234", "c", currency=bad)  # type: ignore[arg-type]


def test_profiles_files_without_a_currency_still_load(app_home: Path) -> None:
    store = ProfileStore()
    old = {
        "version": 1,
        "lastUsed": "Old shop",
        "profiles": [
            {"name": "Old shop", "kind": "test", "merchantSerialNumber": "123456", "clientId": "c1"},
            {
                "name": "Bad money",
                "kind": "test",
                "merchantSerialNumber": "123456",
                "clientId": "c2",
                "currency": "SEK",
            },
        ],
    }
    store.path.parent.mkdir(parents=True, exist_ok=True)
    store.path.write_text(json.dumps(old), encoding="utf-8")
    profiles = store.list()
    assert [p.name for p in profiles] == ["Demo", "Old shop"]  # the invalid one is skipped (and logged)
    assert profiles[1].currency is Currency.NOK
    with pytest.raises(ProfileError, match="currency"):
        Profile.from_json(old["profiles"][1])  # type: ignore[index]


def test_renaming_a_profile_keeps_its_register_and_journal(app_home: Path) -> None:
    from epay_desktop.store import NewEntry, Store

    store = ProfileStore()
    saved = store.save(SHOP)
    path = register_path(saved)
    with Store(path) as register:
        register.register.add("123456", [NewEntry("fjord-ref-0001")])
    renamed = store.save(
        Profile("Fjordkaffe MT", ProfileKind.TEST, "123456", "client-abc"), replacing="Fjordkaffe test"
    )
    assert register_path(renamed) == path
    assert register_path(store.get("Fjordkaffe MT")) == path  # as the app opens it, from the file
    with Store(register_path(store.get("Fjordkaffe MT"))) as register:
        assert register.register.references("123456") == ["fjord-ref-0001"]
    # A new profile taking the old name gets a register of its own, not the renamed one's.
    again = store.save(SHOP)
    assert register_path(again) != path
    assert register_path(store.get("Fjordkaffe test")) == register_path(again)
    # Saving the renamed profile again (an edit) keeps its register.
    assert register_path(store.save(store.get("Fjordkaffe MT"))) == path


def test_profiles_saved_before_register_names_keep_their_files(app_home: Path) -> None:
    store = ProfileStore()
    store.path.write_text(
        json.dumps({"version": 1, "profiles": [SHOP.to_json() | {"register": None}], "lastUsed": "Demo"}),
        encoding="utf-8",
    )
    old = store.get("Fjordkaffe test")
    assert register_path(old).name == f"{SHOP.slug}.sqlite3"
    renamed = store.save(
        Profile("Fjordkaffe MT", ProfileKind.TEST, "123456", "client-abc"), replacing="Fjordkaffe test"
    )
    assert register_path(renamed).name == f"{SHOP.slug}.sqlite3"


def test_a_register_name_that_is_not_a_safe_file_name_is_not_used(app_home: Path) -> None:
    store = ProfileStore()
    store.path.write_text(
        json.dumps(
            {
                "version": 1,
                "profiles": [SHOP.to_json() | {"register": "../../etc/passwd"}],
                "lastUsed": "Demo",
            }
        ),
        encoding="utf-8",
    )
    assert register_path(store.get("Fjordkaffe test")).parent == app_home / "data" / "registers"


@pytest.mark.parametrize("depth", [100_000, 900])
def test_a_deeply_nested_profiles_file_is_refused_or_skipped_not_a_crash(app_home: Path, depth: int) -> None:
    store = ProfileStore()
    store.path.parent.mkdir(parents=True, exist_ok=True)
    nested = "[" * depth + "]" * depth
    store.path.write_text(
        '{"version": 1, "lastUsed": "Demo", "profiles": [{"name": ' + nested + ', "kind": "test", '
        '"merchantSerialNumber": "123456", "clientId": "c"}, ' + nested + "]}",
        encoding="utf-8",
    )
    if depth > 5000:
        with pytest.raises(ProfileStoreError, match="nested too deeply"):
            store.list()
    else:  # read, and the profile whose name is not text is skipped
        assert store.list() == [DEMO_PROFILE]


@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:99999", "http://:8080", "http://h:port"])
def test_a_custom_base_url_that_is_not_usable_is_refused(url: str) -> None:
    with pytest.raises(ProfileError, match="base URL"):
        Profile("Training", ProfileKind.CUSTOM, "123456", "c", url).validate()


@pytest.mark.parametrize(
    ("url", "unencrypted"),
    [
        ("http://10.0.0.5:8080", True),
        ("http://sandbox.lan", True),
        ("http://127.0.0.1:8787", False),
        ("http://[::1]:8787", False),
        ("http://localhost:8787", False),
        ("https://10.0.0.5", False),
    ],
)
def test_plain_http_to_another_machine_needs_a_confirmed_sandbox(
    app_home: Path, url: str, unencrypted: bool
) -> None:
    profile = Profile("Training room", ProfileKind.CUSTOM, "223344", "demo-client", url)
    assert profile.unencrypted is unencrypted
    if unencrypted:
        with pytest.raises(ProfileError, match="not encrypted"):
            ProfileStore().save(profile)
        confirmed = Profile(
            "Training room", ProfileKind.CUSTOM, "223344", "demo-client", url, unencrypted_sandbox=True
        )
        ProfileStore().save(confirmed)
        assert ProfileStore().get("Training room").unencrypted_sandbox
    else:
        ProfileStore().save(profile)


def _left_pending(profile: Profile) -> int:
    """An operation begun in ``profile``'s register whose outcome never came back."""
    with Store(register_path(profile)) as store:
        intent = store.journal.begin(
            operation=Operation.CAPTURE,
            profile=profile.name,
            msn=profile.merchant_serial_number,
            reference="fjord-0001",
            amount=Money(5000, Currency.NOK),
            idempotency_key="key-fjord-0001",
            os_user="tester",
        )
    return intent.id


def test_a_profile_whose_register_holds_unknown_outcomes_keeps_its_environment(app_home: Path) -> None:
    store = ProfileStore()
    saved = store.save(SHOP)
    intent_id = _left_pending(saved)

    moved = replace(saved, kind=ProfileKind.PRODUCTION)
    with pytest.raises(ProfileError, match=r"1 operation without a known outcome.*nothing was saved"):
        store.save(moved, replacing=saved.name)
    with pytest.raises(ProfileError, match="nothing was saved"):
        store.save(replace(saved, merchant_serial_number="654321"), replacing=saved.name)
    with pytest.raises(ProfileError, match="nothing was deleted"):
        store.delete(saved.name)
    assert store.get(saved.name).kind is ProfileKind.TEST  # untouched

    # Renamed, or its client id changed, it still reaches where the operation was begun: allowed.
    renamed = store.save(
        replace(saved, name="Fjordkaffe (test)", client_id="client-new"), replacing=saved.name
    )
    assert register_path(renamed) == register_path(saved)

    with Store(register_path(renamed)) as register:
        register.journal.finish(intent_id, IntentStatus.FAILED, "refused by the API", os_user="tester")
    store.save(replace(renamed, kind=ProfileKind.PRODUCTION), replacing=renamed.name)
    store.delete(renamed.name)
    assert [p.name for p in store.list()] == ["Demo"]
