"""The packaging files say what is true of the checkout: the .desktop entry launches the installed GUI
script with an icon that exists, and the PyInstaller spec names paths that exist, bundles resources where
``paths.resources_dir`` looks for them, and leaves out only modules the app never imports.

The spec is executed with stand-ins for PyInstaller's build steps (PyInstaller itself is not a
dependency, and a build takes a minute); the stand-ins only record what the spec asks for.
"""

from __future__ import annotations

import ast
import configparser
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"


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
    assert entry["Exec"] == "epay-desktop"
    assert entry["Icon"] == "epay-desktop"
    assert entry["Terminal"] == "false"
    categories = entry["Categories"].split(";")
    assert categories[-1] == ""  # the list ends with ';' (freedesktop)
    assert {"Office", "Finance"} <= set(categories)
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert entry["Exec"] in pyproject["project"]["gui-scripts"]


def test_desktop_entry_matches_the_app_and_its_icon_is_an_svg() -> None:
    entry = desktop_entry()
    # Wayland and the taskbars match the window to the entry through this name (ui/startup.py).
    app_source = (ROOT / "epay_desktop" / "ui" / "startup.py").read_text(encoding="utf-8")
    assert "setDesktopFileName(APP_NAME)" in app_source
    from epay_desktop import APP_NAME

    assert entry["StartupWMClass"] == APP_NAME == PACKAGING.joinpath("epay-desktop.desktop").stem
    icon = PACKAGING / f"{entry['Icon']}.svg"
    root = ET.parse(icon).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"


class SpecRecorder:
    """Stand-ins for the names PyInstaller gives a spec file; each records its arguments."""

    def __init__(self) -> None:
        self.calls: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {}

    def step(self, name: str) -> Any:
        recorder = self

        class Step:
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                recorder.calls[name] = (args, kwargs)
                self.pure = self.scripts = self.binaries = self.datas = ()

        return Step


@pytest.fixture(scope="module")
def spec() -> dict[str, tuple[tuple[Any, ...], dict[str, Any]]]:
    path = PACKAGING / "epay-desktop.spec"
    recorder = SpecRecorder()
    names: dict[str, Any] = {"SPECPATH": str(PACKAGING), "__file__": str(path)}
    names |= {step: recorder.step(step) for step in ("Analysis", "PYZ", "EXE", "COLLECT")}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), names)
    return recorder.calls


def test_spec_names_paths_that_exist(spec: dict[str, Any]) -> None:
    (scripts,), analysis = spec["Analysis"]
    assert [Path(s) for s in scripts] == [ROOT / "epay_desktop" / "__main__.py"]
    assert all(Path(s).is_file() for s in scripts)
    assert [Path(p) for p in analysis["pathex"]] == [ROOT]
    for source, _ in analysis["datas"]:
        assert Path(source).exists(), source


def test_spec_bundles_resources_where_the_app_looks_for_them(spec: dict[str, Any]) -> None:
    _, analysis = spec["Analysis"]
    assert (str(ROOT / "resources"), "epay_desktop/resources") in analysis["datas"]
    # paths.resources_dir() tries <package>/resources first: the bundle's layout.
    paths_source = (ROOT / "epay_desktop" / "paths.py").read_text(encoding="utf-8")
    assert 'here / "resources"' in paths_source
    assert (ROOT / "resources" / "icons" / "app.svg").is_file()


def test_spec_makes_one_folder_gui_build(spec: dict[str, Any]) -> None:
    _, exe = spec["EXE"]
    _, collect = spec["COLLECT"]
    assert exe["exclude_binaries"] is True  # one folder: the binaries go to COLLECT, not into the exe
    assert exe["console"] is False
    assert exe["name"] == collect["name"] == "epay-desktop"


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


def test_spec_excludes_only_what_the_app_never_imports(spec: dict[str, Any]) -> None:
    _, analysis = spec["Analysis"]
    excluded = set(analysis["excludes"])
    assert {"pytest", "hypothesis", "tests", "pytestqt"} <= excluded
    imported = _imported_top_levels()
    assert {"PySide6", "httpx", "keyring"} <= imported  # the scan sees the app's imports
    assert not excluded & imported
    assert not excluded & set(sys.stdlib_module_names) - {"tkinter"}
