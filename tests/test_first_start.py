"""First start without a terminal: when Qt's platform plugin cannot load, the person is told which system
package is missing, through a channel that needs no Qt, before Qt would abort.

The broken environment is real: a copy of PySide6's own xcb plugin whose dependency on
``libxcb-cursor.so.0`` is renamed to ``libxcb-cursor.so.9`` (a library no system has), found by Qt's own
``QT_QPA_PLATFORM_PLUGIN_PATH``; ``dlopen`` then fails on it exactly as on a machine without the library.
The desktop channel is a stand-in ``notify-send`` on PATH that writes down what it was asked to show (no
notification daemon runs here).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from epay_desktop.app.display import (
    SYSTEM_LIBRARIES,
    XCB_LIBRARIES,
    debian_package,
    missing_library,
    platform_problem,
)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt's xcb plugin is Linux's")


def _qt_dir() -> Path:
    import PySide6

    return Path(PySide6.__file__).parent / "Qt"


def broken_plugin_dir(tmp_path: Path) -> Path:
    """plugins/platforms/libqxcb.so needing libxcb-cursor.so.9, beside a lib/ link to PySide6's Qt
    libraries (the plugin's RUNPATH is $ORIGIN/../../lib)."""
    original = _qt_dir() / "plugins" / "platforms" / "libqxcb.so"
    data = original.read_bytes()
    assert data.count(b"libxcb-cursor.so.0\x00") == 1, "the plugin no longer names libxcb-cursor.so.0"
    platforms = tmp_path / "qt" / "plugins" / "platforms"
    platforms.mkdir(parents=True)
    (platforms / "libqxcb.so").write_bytes(data.replace(b"libxcb-cursor.so.0\x00", b"libxcb-cursor.so.9\x00"))
    (tmp_path / "qt" / "lib").symlink_to(_qt_dir() / "lib")
    return platforms


def desktop_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """What a desktop menu hands the program: a display, a PATH, a home; no QT_QPA_PLATFORM."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QT_", "DISPLAY", "WAYLAND"))}
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    notify = bin_dir / "notify-send"
    notify.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{tmp_path / "notified.txt"}"\n', encoding="utf-8")
    notify.chmod(0o755)
    env["PATH"] = str(bin_dir)  # no real dialog program: what they would show cannot be read here
    env["EPAY_DESKTOP_HOME"] = str(tmp_path / "home")
    env.update(extra)
    return env


def run_app(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "epay_desktop", "--smoke"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def wait_for(path: Path) -> str:
    """The stand-in runs detached from the app (a real dialog outlives it): wait for its file."""
    import time

    for _ in range(200):
        if path.exists() and path.read_text(encoding="utf-8").strip():
            return path.read_text(encoding="utf-8")
        time.sleep(0.05)
    raise AssertionError(f"{path} was never written")


def test_a_missing_xcb_library_is_named_with_its_package(tmp_path: Path) -> None:
    platforms = broken_plugin_dir(tmp_path)
    # Only the missing library the plugin names is at fault here: the others must load on this machine
    # for the test to isolate the renamed one (CI installs them with the package's Depends).
    env = desktop_env(tmp_path, DISPLAY=":77", QT_QPA_PLATFORM_PLUGIN_PATH=str(platforms))
    present = platform_problem({"DISPLAY": ":77"})
    if present is not None:
        pytest.skip(f"this machine lacks the xcb plugin's libraries itself: {present}")
    result = run_app(env)
    assert result.returncode == 1, result.stderr
    # stderr: no Qt abort line, the library and the package named
    assert "libxcb-cursor.so.9" in result.stderr
    assert "sudo apt install libxcb-cursor9" in result.stderr
    assert "qt.qpa.plugin" not in result.stderr
    assert "Aborted" not in result.stderr
    # the desktop channel got the same words
    notified = wait_for(tmp_path / "notified.txt")
    assert "epay-desktop cannot start" in notified
    assert "libxcb-cursor9" in notified
    # and the log file keeps them for support
    log = (tmp_path / "home" / "logs" / "epay-desktop.log").read_text(encoding="utf-8")
    assert "libxcb-cursor.so.9" in log


def test_a_dialog_program_that_fails_gives_way_to_the_next(tmp_path: Path) -> None:
    env = desktop_env(tmp_path, DISPLAY=":77", QT_QPA_PLATFORM_PLUGIN_PATH=str(broken_plugin_dir(tmp_path)))
    zenity = tmp_path / "bin" / "zenity"
    zenity.write_text(f'#!/bin/sh\n: > "{tmp_path / "zenity-tried"}"\nexit 1\n', encoding="utf-8")
    zenity.chmod(0o755)
    if platform_problem({"DISPLAY": ":77"}) is not None:
        pytest.skip("this machine lacks the xcb plugin's libraries itself")
    result = run_app(env)
    assert result.returncode == 1
    assert (tmp_path / "zenity-tried").exists()
    assert "libxcb-cursor9" in wait_for(tmp_path / "notified.txt")


def test_no_desktop_session_is_said_plainly(tmp_path: Path) -> None:
    result = run_app(desktop_env(tmp_path))
    assert result.returncode == 1
    assert "found no desktop session" in result.stderr
    # without a screen, only the notification (D-Bus) can reach the person
    assert "no desktop session" in wait_for(tmp_path / "notified.txt")


def test_offscreen_and_wayland_are_not_second_guessed() -> None:
    assert platform_problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert platform_problem({"WAYLAND_DISPLAY": "wayland-0"}) is None


def test_a_qt_laid_out_elsewhere_is_left_to_qt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A distribution's PySide6 keeps its plugins in the system's Qt folder, which only Qt knows: not
    # finding the plugin is no reason to refuse to start.
    monkeypatch.setattr("importlib.util.find_spec", lambda _name: None)
    assert platform_problem({"DISPLAY": ":1", "QT_QPA_PLATFORM_PLUGIN_PATH": str(tmp_path)}) is None


def test_debian_package_names() -> None:
    assert debian_package("libxcb-cursor.so.0") == "libxcb-cursor0"
    assert debian_package("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    assert debian_package("libGL.so.1") == "libgl1"
    # Debian's rule for names not in the table: a digit before .so takes a dash
    assert debian_package("libxcb-cursor.so.9") == "libxcb-cursor9"
    assert debian_package("libfoo-2.so.3") == "libfoo-2-3"
    assert set(XCB_LIBRARIES) <= set(SYSTEM_LIBRARIES)


def test_missing_library_reads_dlopen_errors() -> None:
    error = "libxcb-icccm.so.4: cannot open shared object file: No such file or directory"
    assert missing_library(error) == "libxcb-icccm.so.4"
    assert missing_library("/x/libqxcb.so: undefined symbol: foo") is None


def test_every_library_the_xcb_plugin_needs_from_the_system_is_known() -> None:
    """The table covers what PySide6's xcb plugin and its Qt library link (other than Qt's own libraries
    and the C/C++ runtime), read from the ELF files themselves."""
    from tests.support.elf import needed

    qt = _qt_dir()
    linked = needed(qt / "plugins" / "platforms" / "libqxcb.so") | needed(qt / "lib" / "libQt6XcbQpa.so.6")
    runtime = {"libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "libdl.so.2", "libpthread.so.0"}
    system = {name for name in linked if not name.startswith("libQt6") and name not in runtime}
    assert system, linked
    assert system <= set(XCB_LIBRARIES), system - set(XCB_LIBRARIES)
