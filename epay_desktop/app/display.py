"""Can Qt open a window here? Asked before the QApplication exists, because after that it is too late.

When Qt's platform plugin cannot load (on Linux: a system library of the xcb plugin is missing, or there
is no desktop session at all), Qt aborts the process with a line on a terminal the person started from
the desktop menu never sees. :func:`platform_problem` finds those cases first and says which system
package is missing; :func:`tell_person` shows that message through whatever works without Qt: a dialog
(zenity, kdialog, xmessage) or a desktop notification (notify-send), the log file, and stderr.

``SYSTEM_LIBRARIES`` is also what the Linux package declares in its ``Depends`` (packaging/build_deb.py):
the libraries Qt's platform plugins load from the system, with the Debian package of each.

No Qt here (the composition root reaches Qt only through ``ui/``): the plugin is found as a file and
loaded with ``dlopen`` (ctypes), which is what Qt would do next. It runs before the first paint, so it
imports little up front (ctypes, subprocess and shutil only when needed).
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

# soname → the Debian/Ubuntu package that ships it. The xcb plugin's (Qt's "X11 requirements" list),
# the OpenGL/EGL front ends every Qt GUI links, and the Wayland plugin's.
SYSTEM_LIBRARIES: dict[str, str] = {
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libdrm.so.2": "libdrm2",
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
}

# What the xcb plugin needs from the system, checked one by one so that all missing ones are named.
XCB_LIBRARIES = tuple(name for name in SYSTEM_LIBRARIES if "wayland" not in name and name != "libdrm.so.2")

_GIVE_WAY_SECONDS = 1.0

_MISSING_OBJECT = re.compile(r"(lib[^\s:/]+\.so(?:\.[0-9]+)*): cannot open shared object file")


def debian_package(soname: str) -> str:
    """The Debian package that ships ``soname``: from the table, else by Debian's naming rule for
    libraries (``libfoo.so.3`` → ``libfoo3``; ``libfoo-1.so.3`` → ``libfoo-1-3``)."""
    if soname in SYSTEM_LIBRARIES:
        return SYSTEM_LIBRARIES[soname]
    stem, _, version = soname.partition(".so")
    version = version.lstrip(".").split(".")[0]
    separator = "-" if stem[-1:].isdigit() else ""
    return f"{stem}{separator}{version}".lower()


def missing_library(error: str) -> str | None:
    """The soname in a ``dlopen`` error such as ``libxcb-cursor.so.0: cannot open shared object file``."""
    found = _MISSING_OBJECT.search(error)
    return found.group(1) if found else None


def _chosen_platform(env: Mapping[str, str]) -> str | None:
    """The platform plugin Qt will try first on Linux, or None when no desktop session is there."""
    asked = env.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if asked:
        return asked
    if env.get("WAYLAND_DISPLAY"):
        return "wayland"
    if env.get("DISPLAY"):
        return "xcb"
    return None


def _plugin_dirs(env: Mapping[str, str]) -> list[Path]:
    """Where Qt looks for platform plugins, in its order."""
    dirs = [Path(p) for p in env.get("QT_QPA_PLATFORM_PLUGIN_PATH", "").split(os.pathsep) if p]
    dirs += [Path(p) / "platforms" for p in env.get("QT_PLUGIN_PATH", "").split(os.pathsep) if p]
    spec = importlib.util.find_spec("PySide6")
    for location in (spec.submodule_search_locations or []) if spec else []:
        dirs.append(Path(location) / "Qt" / "plugins" / "platforms")
    return dirs


def _bundled(soname: str) -> bool:
    """A library the app carries itself (the frozen build's folder, or PySide6's own ``Qt/lib``)."""
    places = [Path(getattr(sys, "_MEIPASS", "") or "/nonexistent")]
    spec = importlib.util.find_spec("PySide6")
    places += [Path(p) / "Qt" / "lib" for p in ((spec.submodule_search_locations or []) if spec else [])]
    return any((place / soname).exists() for place in places)


def _loads(path: str) -> str | None:
    """None when ``dlopen`` loads ``path`` (a file or a soname), else its error."""
    import ctypes

    try:
        ctypes.CDLL(path, mode=os.RTLD_LAZY | os.RTLD_LOCAL)
    except OSError as error:
        return str(error)
    return None


def _install_hint(packages: list[str]) -> str:
    names = " ".join(packages)
    noun = "package" if len(packages) == 1 else "packages"
    return (
        f"Install the system {noun} {names} (Debian, Ubuntu: sudo apt install {names}; other systems "
        "have packages of the same libraries), then start epay-desktop again."
    )


def has_screen(env: Mapping[str, str] | None = None) -> bool:
    """Whether a desktop session is there to show a window (always, off Linux)."""
    env = os.environ if env is None else env
    return not sys.platform.startswith("linux") or _chosen_platform(env) is not None


def platform_problem(env: Mapping[str, str] | None = None) -> str | None:
    """Why Qt will not be able to open a window here, in words for the person; None when it can (or
    when nothing can be known before trying: not Linux, or a platform other than xcb)."""
    env = os.environ if env is None else env
    if not sys.platform.startswith("linux"):
        return None
    platform = _chosen_platform(env)
    if platform is None:
        return (
            "epay-desktop found no desktop session to show its window in (neither DISPLAY nor "
            "WAYLAND_DISPLAY is set). Start it from the desktop's menu, or from a terminal inside the "
            "desktop session."
        )
    if platform != "xcb":
        return None
    plugin = next((d / "libqxcb.so" for d in _plugin_dirs(env) if (d / "libqxcb.so").is_file()), None)
    if plugin is None:
        # A Qt laid out elsewhere (a distribution's PySide6): only Qt itself knows where its plugins are.
        return None
    missing = [name for name in XCB_LIBRARIES if _loads(name) is not None and not _bundled(name)]
    error = None if missing else _loads(str(plugin))
    if error is not None:
        soname = missing_library(error)
        if soname is None:
            return f"Qt's X11 platform plugin cannot be loaded: {error}"
        missing = [soname]
    if not missing:
        return None
    packages = sorted({debian_package(name) for name in missing})
    libraries = ", ".join(missing)
    return f"epay-desktop cannot open its window: the system lacks {libraries}. {_install_hint(packages)}"


def tell_person(message: str, *, log_file: Path | None = None, dialogs: bool = True) -> None:
    """Show ``message`` without Qt: stderr, the log file, and the first desktop channel found (a dialog
    from zenity, kdialog or xmessage, else a notification from notify-send), left running on its own.
    ``dialogs=False`` when there is no screen to show one on (a notification still reaches a session
    through D-Bus)."""
    import shutil
    import subprocess

    print(f"epay-desktop: {message}", file=sys.stderr)
    if log_file is not None:
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            with log_file.open("a", encoding="utf-8") as log:
                log.write(f"ERROR epay_desktop.app.display: {message}\n")
        except OSError as error:
            print(f"epay-desktop: the log file {log_file} cannot be written: {error}", file=sys.stderr)
    title = "epay-desktop cannot start"
    channels = {
        "zenity": ["--error", f"--title={title}", "--no-markup", f"--text={message}"],
        "kdialog": ["--title", title, "--error", message],
        "xmessage": ["-center", f"{title}: {message}"],
        "notify-send": ["--urgency=critical", "--app-name=epay-desktop", title, message],
    }
    for program, arguments in channels.items():
        path = shutil.which(program) if dialogs or program == "notify-send" else None
        if path is None:
            continue
        try:
            # The dialog stays after this process ends: the person reads it at their pace.
            shown = subprocess.Popen(
                [path, *arguments],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError:
            continue
        try:
            # One that fails at once (no screen it can use, no notification service) gives way to the next.
            if shown.wait(timeout=_GIVE_WAY_SECONDS) != 0:
                continue
        except subprocess.TimeoutExpired:
            pass  # still showing: the person has it
        return


__all__ = [
    "SYSTEM_LIBRARIES",
    "XCB_LIBRARIES",
    "debian_package",
    "has_screen",
    "missing_library",
    "platform_problem",
    "tell_person",
]
