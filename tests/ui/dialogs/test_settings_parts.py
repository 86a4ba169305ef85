"""The parts of the Settings dialog through their public surfaces: the list of saved profiles, the
language choice (saved at once in a real profiles file), and what is kept of a profile's secrets (a real
SecretStore over a keyring backend in memory, and over no usable keyring). Real Qt widgets offscreen."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from epay_desktop.services import (
    DEMO_PROFILE,
    Profile,
    ProfileKind,
    ProfileSecrets,
    ProfileStore,
    SecretStore,
)
from epay_desktop.ui.dialogs.kept_secrets import KeptSecrets
from epay_desktop.ui.dialogs.language_choice import LanguageChoice
from epay_desktop.ui.dialogs.profile_form import PRODUCTION_RED
from epay_desktop.ui.dialogs.profile_list import ProfileList
from tests.ui.dialogs.helpers import MemoryKeyring

TEST_SHOP = Profile("Shop test", ProfileKind.TEST, "123456", "client-1")
LIVE_SHOP = Profile("Live shop", ProfileKind.PRODUCTION, "7654321", "client-2")


def test_the_list_shows_each_profile_with_its_kind_and_selects_the_one_asked_for(qtbot: Any) -> None:
    listing = ProfileList()
    qtbot.addWidget(listing)
    rows: list[int] = []
    listing.currentRowChanged.connect(rows.append)
    listing.show_profiles([DEMO_PROFILE, TEST_SHOP, LIVE_SHOP], "Live shop")
    assert [listing.item(i).text() for i in range(listing.count())] == [
        "Demo  ·  built-in sandbox",
        "Shop test  ·  test",
        "Live shop  ·  PRODUCTION",
    ]
    assert listing.item(2).data(Qt.ItemDataRole.UserRole) == "Live shop"
    assert listing.item(2).data(Qt.ItemDataRole.AccessibleTextRole) == "Live shop, production"
    assert listing.item(2).foreground().color() == QColor(PRODUCTION_RED)
    assert listing.item(1).foreground().color() != QColor(PRODUCTION_RED)
    assert rows == [2]  # the selection said once; emptying and filling said nothing
    assert listing.profile_at(listing.currentRow()) == LIVE_SHOP
    assert listing.profile_at(3) is None
    assert listing.profile_at(-1) is None


def test_the_list_selects_the_first_profile_when_the_one_asked_for_is_gone(qtbot: Any) -> None:
    listing = ProfileList()
    qtbot.addWidget(listing)
    listing.show_profiles([DEMO_PROFILE, TEST_SHOP], "Shop test")
    listing.show_profiles([DEMO_PROFILE], "Shop test")  # deleted meanwhile
    assert listing.profiles == [DEMO_PROFILE]
    assert listing.currentRow() == 0
    assert listing.count() == 1


def test_the_language_chosen_is_saved_at_once(qtbot: Any, tmp_path: Path) -> None:
    store = ProfileStore(tmp_path / "profiles.json")
    store.set_language("da")
    choice = LanguageChoice(store)
    qtbot.addWidget(choice)
    assert choice.itemText(0) == "As the system"
    assert choice.code == "da"
    said: list[str] = []
    choice.saved.connect(lambda: said.append("saved"))
    choice.not_saved.connect(said.append)
    choice.setCurrentIndex(choice.findData("fi"))
    assert said == ["saved"]
    assert ProfileStore(tmp_path / "profiles.json").language == "fi"
    choice.setCurrentIndex(0)
    assert choice.code is None
    assert ProfileStore(tmp_path / "profiles.json").language is None


def test_a_language_that_cannot_be_saved_says_why_and_leaves_the_file_alone(
    qtbot: Any, tmp_path: Path
) -> None:
    path = tmp_path / "profiles.json"
    path.write_text("{not json")
    choice = LanguageChoice(ProfileStore(path))
    qtbot.addWidget(choice)
    assert choice.code is None  # unreadable: as the system
    why: list[str] = []
    choice.not_saved.connect(why.append)
    choice.setCurrentIndex(choice.findData("nb"))
    assert len(why) == 1
    assert "cannot be read" in why[0]
    assert path.read_text() == "{not json"


def test_what_is_kept_of_a_profiles_secrets(qt_loop: asyncio.AbstractEventLoop) -> None:
    backend = MemoryKeyring()
    store = SecretStore(backend)
    kept = KeptSecrets(store)
    run = qt_loop.run_until_complete
    assert kept.notice == ""  # a keyring keeps them
    assert run(kept.state_of(TEST_SHOP)).startswith("No secrets stored yet")
    assert run(kept.completed("Shop test", ("", ""))) is None
    assert run(kept.completed("Shop test", ("secret", ""))) == ProfileSecrets("secret", "")

    assert run(kept.keep(TEST_SHOP, ProfileSecrets("secret", ""))) is True
    assert run(kept.state_of(TEST_SHOP)) == "Only one secret is stored; type the missing one."
    assert run(kept.completed("Shop test", ("", "key"))) == ProfileSecrets("secret", "key")
    assert run(kept.completed("Shop test", ("", ""))) == ProfileSecrets("secret", "")

    run(kept.keep(TEST_SHOP, ProfileSecrets("secret", "key")))
    assert "stored in the keyring" in run(kept.state_of(TEST_SHOP))

    renamed = Profile("Shop renamed", ProfileKind.TEST, "123456", "client-1")
    run(kept.keep(renamed, ProfileSecrets("secret", "key"), replacing="Shop test"))
    assert store.get("Shop test") is None
    assert store.get("Shop renamed") == ProfileSecrets("secret", "key")
    run(kept.forget("Shop renamed"))
    assert store.get("Shop renamed") is None
    assert backend.passwords == {}


def test_without_a_keyring_the_secrets_are_kept_for_the_session_and_it_is_said(
    qt_loop: asyncio.AbstractEventLoop,
) -> None:
    store = SecretStore()  # conftest selects keyring's "fail" backend: no keyring here
    kept = KeptSecrets(store)
    run = qt_loop.run_until_complete
    assert "kept for this session only" in kept.notice
    assert run(kept.keep(TEST_SHOP, ProfileSecrets("secret", "key"))) is False
    assert run(kept.state_of(TEST_SHOP)) == "Secrets are stored. Type in a field to replace one."
