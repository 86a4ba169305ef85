"""The skeleton holds: the app starts and quits offscreen, the layers are real, the loop fixture bites."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_app_renders_screenshot_offscreen_and_exits(tmp_path: Path) -> None:
    out = tmp_path / "window.png"
    result = subprocess.run(
        [sys.executable, "-m", "epay_desktop", "--screenshot", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_app_smoke_starts_and_quits(app_home: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "epay_desktop", "--smoke"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # Support reads this file: the start is in it, and nothing of the demo's secrets.
    log = (app_home / "logs" / "epay-desktop.log").read_text(encoding="utf-8")
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert f"epay-desktop {version} starting" in log
    assert "demo-secret" not in log
    # Garbage is collected on the GUI thread only (ui/gc_guard.py), started by the composition root.
    assert "collecting on the GUI thread" in log


def test_import_contracts_hold() -> None:
    result = subprocess.run(
        ["lint-imports"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# A forbidden import planted in each part, and what lint-imports must report for it.
PLANTED = {
    "domain": ("from PySide6 import QtCore", "epay_desktop.domain.leak -> PySide6"),
    "api": ("import epay_desktop.services", "epay_desktop.api.leak -> epay_desktop.services"),
    "sandbox": ("import epay_desktop.api", "epay_desktop.sandbox.leak -> epay_desktop.api"),
    "store": ("from PySide6 import QtCore", "epay_desktop.store.leak -> PySide6"),
    "services": ("import epay_desktop.ui", "epay_desktop.services.leak -> epay_desktop.ui"),
    "cli": ("import qasync", "epay_desktop.cli.leak -> qasync"),
}


def test_import_contracts_refuse_a_wrong_import_in_every_layer(tmp_path: Path) -> None:
    """Copy the package, plant a forbidden import in each layer, and watch lint-imports refuse each."""
    import shutil

    copy = tmp_path / "proj"
    shutil.copytree(ROOT / "epay_desktop", copy / "epay_desktop")
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    for layer, (line, _) in PLANTED.items():
        (copy / "epay_desktop" / layer / "leak.py").write_text(line + "\n")
    result = subprocess.run(
        ["lint-imports"],
        capture_output=True,
        text=True,
        cwd=copy,
        timeout=300,
        check=False,
        env={**__import__("os").environ, "PYTHONPATH": str(copy)},
    )
    assert result.returncode != 0
    for layer, (_, reported) in PLANTED.items():
        assert reported in result.stdout, layer


def test_loop_fixture_catches_stray_errors(qapp: object) -> None:
    """The qt_loop fixture's handler sees an exception nobody awaited (checked by hand here)."""
    from epay_desktop.ui.aio import new_event_loop

    loop = new_event_loop(qapp)  # type: ignore[arg-type]
    seen: list[object] = []
    loop.set_exception_handler(lambda _l, ctx: seen.append(ctx.get("exception")))

    def boom() -> None:
        raise RuntimeError("stray")

    loop.call_soon(boom)
    loop.run_until_complete(asyncio.sleep(0.01))
    loop.close()
    assert any(isinstance(e, RuntimeError) for e in seen)


def test_the_first_paint_needs_no_network_stack_no_store_and_no_platformdirs() -> None:
    """What main() does before the first paint (the window, the profile for its banner, the paint) stays
    light: the services' and the app's exports load lazily, paths imports platformdirs only when a folder
    is asked for, the table model comes with the desk, and the Qt namespace (~12 ms of Python enums) is
    not built (ui/first_paint.py)."""
    code = textwrap.dedent(
        """
        import os, sys
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        import PySide6.QtCore as QtCore
        from PySide6.QtWidgets import QApplication
        import epay_desktop.services as services
        from epay_desktop.app import main  # noqa: F401  (what python -m epay_desktop imports first)
        from epay_desktop.app.cli import choose_profile
        from epay_desktop.services import DEMO_PROFILE, Profile
        from epay_desktop.ui.window.main_window import MainWindow
        from epay_desktop.ui.first_paint import paint_now
        from epay_desktop.ui.theme import apply_style, icon
        app = QApplication([])
        apply_style(app)
        window = MainWindow()
        window.show_profile(choose_profile(None))
        assert paint_now(window)
        assert window.banner.objectName() == "DemoBanner"
        assert "Qt" not in QtCore.__dict__, "the first paint built the Qt namespace"
        heavy = [m for m in ("httpx", "epay_desktop.store", "epay_desktop.api", "platformdirs", "asyncio",
                             "epay_desktop.ui.table.model", "epay_desktop.ui.controller",
                             "epay_desktop.app.sessions", "logging.handlers")
                 if m in sys.modules]
        assert not heavy, heavy
        window.close()
        assert set(services.__all__) == set(services._EXPORTS)
        for name in services.__all__:
            getattr(services, name)  # every export still resolves
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
