"""The Linux package, end to end on this machine: built by packaging/build_deb.py, installed with dpkg,
its programs run from /usr/bin as a person would (a throwaway home, no EPAY_DESKTOP_HOME), and purged
without leaving a file behind.

Needs root, Debian's dpkg and the package's Depends installed (``.ci/run`` installs them; see
``build_deb.py --print-system-packages``); under Xvfb (when installed) the desktop entry's command also
runs on a real X server through Qt's xcb plugin, the way the desktop menu starts it.
"""

from __future__ import annotations

import configparser
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "epay-desktop"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
PROGRAMS = [*PROJECT.get("gui-scripts", {}), *PROJECT.get("scripts", {})]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not sys.platform.startswith("linux") or shutil.which("dpkg-deb") is None or os.geteuid() != 0,
        reason="installs a .deb: needs Linux, dpkg and root",
    ),
]


def run(*args: str | Path, env: dict[str, str] | None = None, timeout: float = 180) -> str:
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{shlex.join(map(str, args))}: {result.stdout}\n{result.stderr}"
    return result.stdout


def is_installed() -> bool:
    status = subprocess.run(
        ["dpkg-query", "-W", "-f=${db:Status-Abbrev}", PACKAGE], capture_output=True, text=True, check=False
    )
    return status.returncode == 0 and status.stdout.strip() not in ("", "un")


def person_env(home: Path, **extra: str) -> dict[str, str]:
    """What a session hands a program: a PATH and a HOME; none of this checkout's or the tests' own
    settings (no EPAY_DESKTOP_HOME, no virtualenv)."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            raise  # CI installs the packaging group (.ci/run): its absence is a CI fault, not a skip
        pytest.skip("PyInstaller is not installed: uv sync --group packaging")
    if is_installed():
        # Left by an earlier run that was killed before its purge: this test's own package, remove it.
        run("dpkg", "--purge", PACKAGE)
    work = tmp_path_factory.mktemp("deb")
    out = run(
        sys.executable,
        ROOT / "packaging" / "build_deb.py",
        "--out",
        work / "out",
        "--work",
        work / "work",
        timeout=900,
    )
    path = Path(out.strip().splitlines()[-1])
    shutil.rmtree(work / "work")  # the frozen folder and its staged copy: ~400 MB the tests do not need
    assert path.name == f"{PACKAGE}_{PROJECT['version']}_{run('dpkg', '--print-architecture').strip()}.deb"
    return path


@pytest.fixture(scope="module")
def installed(deb: Path) -> Iterator[list[Path]]:
    """The package installed; yields the files it put on the system. Purged afterwards whatever
    happened (the purge is checked by its own test)."""
    try:
        run("dpkg", "--install", deb)
        listed = [Path(line) for line in run("dpkg", "--listfiles", PACKAGE).splitlines() if line.strip()]
        yield listed
    finally:
        if is_installed():
            subprocess.run(["dpkg", "--purge", PACKAGE], capture_output=True, check=False)


def test_the_package_says_what_it_is(deb: Path) -> None:
    fields = dict(
        line.split(": ", 1) for line in run("dpkg-deb", "--field", deb).splitlines() if ": " in line
    )
    assert fields["Package"] == PACKAGE
    assert fields["Version"] == PROJECT["version"]
    depends = {d.strip().split(" ")[0] for d in fields["Depends"].split(",")}
    # What Qt's xcb plugin needs from the system, by Debian package (Qt's X11 requirements)
    assert {"libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxkbcommon-x11-0", "libegl1"} <= depends
    assert "libc6" in depends


def test_installed_files_are_where_the_system_looks(installed: list[Path]) -> None:
    for program in PROGRAMS:
        link = Path("/usr/bin") / program
        assert link in installed, program
        assert link.is_symlink(), program
        assert os.access(link, os.X_OK), program
    entry = Path(f"/usr/share/applications/{PACKAGE}.desktop")
    icon = Path(f"/usr/share/icons/hicolor/scalable/apps/{PACKAGE}.svg")
    assert entry in installed
    assert icon in installed
    assert all(path.exists() for path in installed)


def test_every_program_reports_the_projects_version(installed: list[Path], tmp_path: Path) -> None:
    for program in PROGRAMS:
        shown = run(f"/usr/bin/{program}", "--version", env=person_env(tmp_path)).strip()
        assert shown.split()[-1] == PROJECT["version"], (program, shown)
    assert run("dpkg-query", "-W", "-f=${Version}", PACKAGE) == PROJECT["version"]


def test_the_window_starts_and_renders_with_a_throwaway_home(installed: list[Path], tmp_path: Path) -> None:
    env = person_env(tmp_path, QT_QPA_PLATFORM="offscreen")
    run("/usr/bin/epay-desktop", "--smoke", env=env)
    shot = tmp_path / "window.png"
    run("/usr/bin/epay-desktop", "--screenshot", shot, env=env)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The frozen app found its folders through paths.py (platformdirs under HOME), not beside itself
    log = tmp_path / ".local" / "state" / PACKAGE / "log" / "epay-desktop.log"
    assert f"{PACKAGE} {PROJECT['version']} starting" in log.read_text(encoding="utf-8")


def test_epay_reads_the_demo_data(installed: list[Path], tmp_path: Path) -> None:
    env = person_env(tmp_path)
    listing = run("/usr/bin/epay", "list", env=env)
    reference = listing.splitlines()[1].split()[0]
    shown = run("/usr/bin/epay", "get", reference, env=env)
    assert reference in shown
    assert "NOK" in shown


def test_epay_talks_to_the_installed_sandbox_over_http(installed: list[Path], tmp_path: Path) -> None:
    sandbox = subprocess.Popen(
        ["/usr/bin/epay-sandbox", "--port", "0"],
        env=person_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert sandbox.stdout is not None
        first = sandbox.stdout.readline()
        url = next(word for word in first.split() if word.startswith("http://127.0.0.1:"))
        listing = run("/usr/bin/epay", "--base-url", url, "list", env=person_env(tmp_path))
        assert "44 payments for merchant" in listing
    finally:
        sandbox.send_signal(signal.SIGINT)
        try:
            sandbox.wait(timeout=30)
        except subprocess.TimeoutExpired:
            sandbox.kill()
            sandbox.wait()
        if sandbox.stdout is not None:
            sandbox.stdout.close()


@pytest.fixture
def x_display(tmp_path: Path) -> Iterator[str]:
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb)")
    display = f":{(os.getpid() % 400) + 100}"
    server = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    socket = Path("/tmp/.X11-unix") / f"X{display[1:]}"
    for _ in range(200):
        if socket.exists() or server.poll() is not None:
            break
        subprocess.run(["sleep", "0.05"], check=False)
    assert server.poll() is None, "Xvfb did not start"
    try:
        yield display
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_started_from_the_menu_it_opens_demo_on_x11(
    installed: list[Path], tmp_path: Path, x_display: str
) -> None:
    """The desktop entry's command, with only what a session sets (DISPLAY, HOME, PATH): Qt picks its
    xcb plugin by itself, the system libraries the package declares are enough, and a first start opens
    Demo and lists its payments."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(f"/usr/share/applications/{PACKAGE}.desktop", encoding="utf-8")
    command = shlex.split(parser["Desktop Entry"]["Exec"])
    # --startup-marks: print "painted" and "listed N" once the register's rows are painted, then quit
    out = run(*command, "--startup-marks", env=person_env(tmp_path, DISPLAY=x_display))
    assert out.splitlines()[0] == "painted"
    assert out.splitlines()[-1].startswith("listed ")
    assert int(out.split()[-1]) > 0
    assert (tmp_path / ".local" / "share" / PACKAGE / "registers" / "Demo.sqlite3").is_file()


def test_purge_leaves_nothing_behind(installed: list[Path]) -> None:
    run("dpkg", "--purge", PACKAGE)
    assert not is_installed()
    left = [path for path in installed if path.exists() and not path.is_dir()]
    assert not left, left
    assert not Path("/usr/lib/epay-desktop").exists()
