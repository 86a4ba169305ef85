"""The packaging files hold what the running app and pyproject.toml say, checked by what they do:

- the desktop entry launches the GUI script and names the app the way the running app names itself;
- the frozen build's entry (``packaging/frozen_entry.py``) starts the program an executable is named
  after, for every script pyproject.toml declares;
- ``paths`` finds the resources inside a frozen bundle (a PyInstaller-like ``sys._MEIPASS`` layout);
- the PyInstaller spec makes one executable per declared script (GUI ones windowed), bundles the
  resources where ``paths`` looks, carries the package metadata, and leaves out only modules the app
  never imports; on macOS it makes a .app with the project's version (executed with stand-ins for
  PyInstaller's build steps, which only record what the spec asks for; the real build is
  ``tests/test_installer_deb.py``);
- the Windows and macOS icons show the app's SVG; the GitHub Actions workflow is a valid workflow
  (the workflow schema, and zizmor's checks) whose recipes exist.
"""

from __future__ import annotations

import ast
import configparser
import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
import types
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
GUI_SCRIPTS = dict(PYPROJECT["gui-scripts"])
CONSOLE_SCRIPTS = dict(PYPROJECT["scripts"])
WORKFLOW = ROOT / ".github" / "workflows" / "installers.yml"


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(PACKAGING / "epay-desktop.desktop", encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_entry_launches_the_gui_script() -> None:
    entry = desktop_entry()
    assert entry["Type"] == "Application"
    assert entry["Name"]
    assert entry["Comment"]
    assert entry["Exec"] in GUI_SCRIPTS
    assert entry["Terminal"] == "false"
    categories = entry["Categories"].split(";")
    assert categories[-1] == ""  # the list ends with ';' (freedesktop)
    assert {"Office", "Finance"} <= set(categories)


def test_the_running_app_names_itself_as_the_entry_and_icon_do() -> None:
    """Wayland and the taskbars match a window to its entry by the desktop file name the app reports;
    the running app also reports pyproject.toml's version."""
    code = textwrap.dedent(
        """
        import os
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from PySide6.QtGui import QGuiApplication
        from epay_desktop.services import DEMO_PROFILE
        from epay_desktop.ui.startup import first_window
        app, window = first_window(DEMO_PROFILE, offscreen=True, show_error_dialogs=False)
        print(QGuiApplication.desktopFileName())
        print(app.applicationVersion())
        window.close()
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    desktop_file_name, version = result.stdout.split()
    entry = desktop_entry()
    assert desktop_file_name == (PACKAGING / "epay-desktop.desktop").stem == entry["StartupWMClass"]
    assert version == PYPROJECT["version"]
    icon = PACKAGING / f"{entry['Icon']}.svg"
    assert ET.parse(icon).getroot().tag == "{http://www.w3.org/2000/svg}svg"


# -- the frozen build's entry --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def frozen_entry() -> types.ModuleType:
    import importlib.util

    spec = importlib.util.spec_from_file_location("frozen_entry", PACKAGING / "frozen_entry.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_frozen_entry_knows_every_script_pyproject_declares(frozen_entry: Any) -> None:
    # The installed metadata (here the editable install's; in a bundle the copied dist-info) is what
    # pyproject.toml declares: a script added there reaches the installers unchanged.
    found = frozen_entry.scripts()
    assert set(found) == set(GUI_SCRIPTS) | set(CONSOLE_SCRIPTS)
    for name, target in (GUI_SCRIPTS | CONSOLE_SCRIPTS).items():
        assert found[name].value == target


@pytest.mark.parametrize(
    ("argv0", "program"),
    [
        ("/usr/lib/epay-desktop/epay", "epay"),
        ("epay-sandbox", "epay-sandbox"),
        ("C:\\Program Files\\epay-desktop\\epay-desktop.EXE", "epay-desktop"),
        ("/Applications/epay-desktop.app/Contents/MacOS/epay-desktop", "epay-desktop"),
    ],
)
def test_frozen_entry_reads_its_name(frozen_entry: Any, argv0: str, program: str) -> None:
    assert frozen_entry.program_name(argv0) == program


def test_frozen_entry_starts_the_named_program(tmp_path: Path) -> None:
    """Run the entry file as the bundle does, under each console script's name: each answers
    --version with its own name (so the right main ran)."""
    for program in CONSOLE_SCRIPTS:
        code = (
            "import runpy, sys; sys.frozen = True; "
            f"sys.executable = {str(tmp_path / program)!r}; sys.argv = [sys.executable, '--version']; "
            f"runpy.run_path({str(PACKAGING / 'frozen_entry.py')!r}, run_name='__main__')"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == [program, PYPROJECT["version"]]


def test_frozen_entry_refuses_an_unknown_name(frozen_entry: Any) -> None:
    with pytest.raises(SystemExit, match="no program named 'epay-nothing'"):
        frozen_entry.find_main("/usr/lib/epay-desktop/epay-nothing")


# -- paths in a frozen bundle --------------------------------------------------------------------------


def test_paths_find_resources_inside_a_frozen_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from epay_desktop import paths

    bundle = tmp_path / "_internal"
    shutil.copytree(ROOT / "resources", bundle / "epay_desktop" / "resources")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    paths.resources_dir.cache_clear()
    try:
        assert paths.resources_dir() == bundle / "epay_desktop" / "resources"
        assert (
            paths.resource("icons", "app.svg").read_bytes() == (ROOT / "resources/icons/app.svg").read_bytes()
        )
    finally:
        paths.resources_dir.cache_clear()
    # not frozen: the checkout's folder, as before
    monkeypatch.setattr(sys, "frozen", False)
    assert paths.resources_dir() == ROOT / "resources"
    paths.resources_dir.cache_clear()


# -- the PyInstaller spec ------------------------------------------------------------------------------


class SpecRecorder:
    """Stand-ins for the names PyInstaller gives a spec file; each records its arguments."""

    def __init__(self) -> None:
        self.calls: dict[str, list[tuple[tuple[Any, ...], dict[str, Any]]]] = {}

    def step(self, name: str) -> Any:
        recorder = self

        class Step:
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                recorder.calls.setdefault(name, []).append((args, kwargs))
                self.pure = self.scripts = self.binaries = self.datas = ()

        return Step


def run_spec(monkeypatch: pytest.MonkeyPatch, platform: str) -> dict[str, list[Any]]:
    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.collect_submodules = lambda package: [f"{package}.stand_in"]  # type: ignore[attr-defined]
    hooks.copy_metadata = lambda dist: [(f"/site/{dist}.dist-info", f"{dist}.dist-info")]  # type: ignore[attr-defined]
    for name in ("PyInstaller", "PyInstaller.utils"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "PyInstaller.utils.hooks", hooks)
    path = PACKAGING / "epay-desktop.spec"
    recorder = SpecRecorder()
    names: dict[str, Any] = {"SPECPATH": str(PACKAGING), "__file__": str(path)}
    names |= {step: recorder.step(step) for step in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE")}
    monkeypatch.setattr(sys, "platform", platform)
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), names)
    monkeypatch.undo()
    return recorder.calls


@pytest.fixture(scope="module")
def linux_spec() -> dict[str, list[Any]]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        return run_spec(monkeypatch, "linux")


def test_spec_freezes_the_entry_with_the_package_its_metadata_and_resources(
    linux_spec: dict[str, Any],
) -> None:
    ((scripts,), analysis) = linux_spec["Analysis"][0]
    assert [Path(s) for s in scripts] == [PACKAGING / "frozen_entry.py"]
    assert [Path(p) for p in analysis["pathex"]] == [ROOT]
    assert (str(ROOT / "resources"), "epay_desktop/resources") in analysis["datas"]
    assert ("/site/epay-desktop.dist-info", "epay-desktop.dist-info") in analysis["datas"]
    for target in (GUI_SCRIPTS | CONSOLE_SCRIPTS).values():
        assert target.split(":")[0] in analysis["hiddenimports"]
    for source, _ in analysis["datas"][:1]:
        assert Path(source).is_dir()


def test_spec_makes_one_executable_per_declared_script(linux_spec: dict[str, Any]) -> None:
    made = {kwargs["name"]: kwargs for _, kwargs in linux_spec["EXE"]}
    assert set(made) == set(GUI_SCRIPTS) | set(CONSOLE_SCRIPTS)
    for name, kwargs in made.items():
        assert kwargs["console"] is (name in CONSOLE_SCRIPTS)  # no console window for the GUI
        assert kwargs["exclude_binaries"] is True  # one folder: the binaries go to COLLECT
    (parts, collect) = linux_spec["COLLECT"][0]
    assert len(parts) == len(made) + 2  # every executable, then the binaries and the data files
    assert collect["name"] == PYPROJECT["name"]
    assert "BUNDLE" not in linux_spec


def test_spec_on_macos_makes_an_app_with_the_projects_version(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = run_spec(monkeypatch, "darwin")
    ((_,), bundle) = calls["BUNDLE"][0]
    assert bundle["name"] == "epay-desktop.app"
    assert bundle["version"] == PYPROJECT["version"]
    assert bundle["info_plist"]["CFBundleExecutable"] in GUI_SCRIPTS
    assert Path(bundle["icon"]).is_file()
    assert {kwargs["icon"] for _, kwargs in calls["EXE"]} == {bundle["icon"]}


def test_spec_on_windows_gives_every_program_the_icon(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = run_spec(monkeypatch, "win32")
    icons = {kwargs["icon"] for _, kwargs in calls["EXE"]}
    assert len(icons) == 1
    assert Path(icons.pop()).is_file()


def _imported_top_levels() -> set[str]:
    """Every top-level module any file of the app package imports (tests are not part of it)."""
    names: set[str] = set()
    for source in (ROOT / "epay_desktop").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


def test_spec_excludes_only_what_the_app_never_imports(linux_spec: dict[str, Any]) -> None:
    _, analysis = linux_spec["Analysis"][0]
    excluded = set(analysis["excludes"])
    assert {"pytest", "hypothesis", "tests", "pytestqt"} <= excluded
    imported = _imported_top_levels()
    assert {"PySide6", "httpx", "keyring"} <= imported  # the scan sees the app's imports
    assert not excluded & imported
    assert not excluded & set(sys.stdlib_module_names) - {"tkinter"}


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="asks Debian's package database")
def test_build_deb_finds_the_package_of_a_library_outside_its_table() -> None:
    sys.path.insert(0, str(PACKAGING))
    try:
        import build_deb
    finally:
        sys.path.remove(str(PACKAGING))
    assert build_deb.owning_package("libc.so.6") == "libc6"
    assert build_deb.owning_package("libnothing-at-all.so.7") is None


# -- Windows and macOS ---------------------------------------------------------------------------------


def test_the_windows_and_macos_icons_show_the_svg(qapp: Any) -> None:
    from PySide6.QtGui import QImage

    sys.path.insert(0, str(PACKAGING))
    try:
        import make_icons
    finally:
        sys.path.remove(str(PACKAGING))
    for target, size in make_icons.TARGETS.items():
        committed = QImage(str(target))
        assert not committed.isNull(), f"Qt cannot read {target}"
        assert (committed.width(), committed.height()) == (size, size)
        expected = make_icons.render(size)
        assert committed.convertToFormat(QImage.Format.Format_ARGB32) == expected, (
            f"{target.name} no longer shows epay-desktop.svg: run packaging/make_icons.py"
        )


def test_the_workflow_is_a_valid_github_actions_workflow() -> None:
    # The schema GitHub's workflows follow (SchemaStore's, shipped inside check-jsonschema: no network)
    result = subprocess.run(
        [
            shutil.which("check-jsonschema") or "check-jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            str(WORKFLOW),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # zizmor: the workflow's security checks (pinned actions, no credentials left in the checkout, no
    # template injection), offline
    result = subprocess.run(
        [shutil.which("zizmor") or "zizmor", "--offline", "--no-progress", str(WORKFLOW)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_workflow_runs_recipes_that_exist_and_smoke_tests_each_system() -> None:
    import yaml

    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    jobs = workflow["jobs"]
    assert {job["runs-on"].split("-")[0] for job in jobs.values()} == {"ubuntu", "windows", "macos"}
    commands = "\n".join(step.get("run", "") for job in jobs.values() for step in job["steps"])
    for recipe in (
        "packaging/build_deb.py",
        "packaging/windows/build.ps1",
        "packaging/windows/smoke.ps1",
        "packaging/macos/build.sh",
        "packaging/macos/smoke.sh",
        "tests/test_installer_deb.py",
    ):
        assert recipe in commands, recipe
        assert (ROOT / recipe).is_file(), recipe
    for script in ("packaging/macos/build.sh", "packaging/macos/smoke.sh"):
        assert os.access(ROOT / script, os.X_OK), script
        result = subprocess.run(
            ["bash", "-n", str(ROOT / script)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
    smoke = (PACKAGING / "windows" / "smoke.ps1").read_text(encoding="utf-8")
    assert "--smoke" in smoke
    assert "--smoke" in (PACKAGING / "macos" / "smoke.sh").read_text(encoding="utf-8")
    iss = (PACKAGING / "windows" / "epay-desktop.iss").read_text(encoding="utf-8")
    assert (PACKAGING / "windows" / iss.split("SetupIconFile=")[1].split()[0]).is_file()
