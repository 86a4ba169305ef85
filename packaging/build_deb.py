"""Build the Debian/Ubuntu package of epay-desktop: ``dist/epay-desktop_<version>_<arch>.deb``.

    uv run --group packaging python packaging/build_deb.py [--out DIR] [--work DIR] [--bundle DIR]
    uv run --group packaging python packaging/build_deb.py --print-system-packages

1. PyInstaller freezes every script pyproject.toml declares into one folder (``epay-desktop.spec``);
   ``--bundle`` takes an existing folder instead.
2. The folder goes to ``/usr/lib/epay-desktop``; each program gets a link in ``/usr/bin``; the desktop
   entry and the icon go where the desktop menus look (``/usr/share/applications``,
   ``/usr/share/icons/hicolor``). The executables PyInstaller makes are identical (each finds its name
   at run time, ``frozen_entry.py``): they are hard links to one file.
3. ``Depends`` is read from the bundle itself: every library its ELF files link that the bundle does not
   carry, named by its Debian package (``epay_desktop.app.display.SYSTEM_LIBRARIES``, else the
   installed package that ships it here; one found neither way stops the build), the libraries of Qt's
   xcb plugin, and the C library at the newest symbol version the bundle uses.
4. ``dpkg-deb --root-owner-group`` packs it (no fakeroot needed). No maintainer scripts: the icon cache
   and the menus are refreshed by the triggers of the packages that own them, and ``dpkg --purge``
   removes every file the package installed.

Needs: Linux, ``dpkg-deb`` (Debian's dpkg), the ``packaging`` dependency group.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from epay_desktop.app.display import SYSTEM_LIBRARIES, XCB_LIBRARIES  # noqa: E402

PACKAGING = ROOT / "packaging"
INSTALL_DIR = Path("usr/lib/epay-desktop")

# Linked by everything, shipped by libc6: its version comes from the symbol versions instead.
C_LIBRARY = {
    "libc.so.6",
    "libm.so.6",
    "libdl.so.2",
    "libpthread.so.0",
    "libresolv.so.2",
    "librt.so.1",
    "libutil.so.1",
    "ld-linux-x86-64.so.2",
    "ld-linux-aarch64.so.1",
    "ld-linux-armhf.so.3",
}
# Plugins Qt loads only when they can be (a GTK look under GNOME): their libraries are suggested.
OPTIONAL_PLUGINS = {"libqgtk3.so": "libgtk-3-0"}
_GLIBC_VERSION = re.compile(rb"GLIBC_(2\.[0-9]+)\x00")


def project() -> dict[str, object]:
    data: dict[str, object] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return data


def programs() -> list[str]:
    """Every script pyproject.toml declares, the GUI ones first."""
    meta = project()
    gui = dict(meta.get("gui-scripts", {}))  # type: ignore[call-overload]
    console = dict(meta.get("scripts", {}))  # type: ignore[call-overload]
    return [*gui, *console]


def freeze(work: Path) -> Path:
    """Run PyInstaller on the spec; the one-folder bundle it made."""
    dist = work / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level=WARN",
            "--distpath",
            str(dist),
            "--workpath",
            str(work / "pyinstaller"),
            str(PACKAGING / "epay-desktop.spec"),
        ],
        check=True,
        cwd=ROOT,
    )
    return dist / str(project()["name"])


def _elf_files(bundle: Path) -> list[Path]:
    found = []
    for path in sorted(bundle.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as stream:
                if stream.read(4) == b"\x7fELF":
                    found.append(path)
    return found


def _needed(path: Path) -> set[str]:
    try:
        with path.open("rb") as stream:
            elf = ELFFile(stream)
            return {
                tag.needed  # type: ignore[attr-defined]  # set by pyelftools on DT_NEEDED tags
                for section in elf.iter_sections()
                if isinstance(section, DynamicSection)
                for tag in section.iter_tags()
                if tag.entry.d_tag == "DT_NEEDED"
            }
    except ELFError:
        return set()


def owning_package(soname: str) -> str | None:
    """The installed Debian package that ships ``soname`` on this machine (ldconfig's cache, then
    dpkg's file list; a merged /usr registers a file under /lib or /usr/lib), or None."""
    cache = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=False).stdout
    for line in cache.splitlines():
        name, _, path = line.strip().partition(" => ")
        if name.split(" ")[0] != soname:
            continue
        for candidate in {path, str(Path(path).resolve()), "/usr" + path, path.removeprefix("/usr")}:
            owner = subprocess.run(
                ["dpkg-query", "-S", candidate], capture_output=True, text=True, check=False
            )
            if owner.returncode == 0:
                return owner.stdout.split(":")[0].strip()
    return None


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def dependencies(bundle: Path) -> tuple[list[str], list[str]]:
    """(Depends, Suggests) of the bundle; SystemExit naming the library when one is unknown."""
    elves = _elf_files(bundle)
    carried = {path.name for path in bundle.rglob("*.so*")}
    depends: set[str] = {SYSTEM_LIBRARIES[name] for name in XCB_LIBRARIES}
    suggests: set[str] = set()
    unknown: dict[str, str] = {}
    glibc = "2.17"
    for elf in elves:
        for found in _GLIBC_VERSION.findall(elf.read_bytes()):
            if _version_key(found.decode()) > _version_key(glibc):
                glibc = found.decode()
        if elf.name in OPTIONAL_PLUGINS:
            suggests.add(OPTIONAL_PLUGINS[elf.name])
            continue
        for soname in _needed(elf) - carried - C_LIBRARY:
            package = SYSTEM_LIBRARIES.get(soname) or owning_package(soname)
            if package is None:
                unknown[soname] = str(elf.relative_to(bundle))
            else:
                depends.add(package)
    if unknown:
        listed = ", ".join(f"{name} (linked by {user})" for name, user in sorted(unknown.items()))
        raise SystemExit(
            f"build_deb: the bundle links libraries it does not carry, not installed here and whose "
            f"Debian package is not known: {listed}. Add them to SYSTEM_LIBRARIES in "
            "epay_desktop/app/display.py."
        )
    return [f"libc6 (>= {glibc})", *sorted(depends)], sorted(suggests)


def _link_identical_executables(target: Path, names: list[str]) -> None:
    first = target / names[0]
    for name in names[1:]:
        other = target / name
        if filecmp.cmp(first, other, shallow=False):
            other.unlink()
            os.link(first, other)


def _installed_size_kib(root: Path) -> int:
    seen: set[int] = set()
    total = 0
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink() and path.stat().st_ino not in seen:
            seen.add(path.stat().st_ino)
            total += path.stat().st_size
    return (total + 1023) // 1024


def architecture() -> str:
    return subprocess.run(
        ["dpkg", "--print-architecture"], check=True, capture_output=True, text=True
    ).stdout.strip()


def stage(bundle: Path, root: Path) -> None:
    """The package's file tree under ``root`` (without DEBIAN/)."""
    name = str(project()["name"])
    target = root / INSTALL_DIR
    shutil.copytree(bundle, target, symlinks=True)
    names = programs()
    missing = [program for program in names if not (target / program).is_file()]
    if missing:
        raise SystemExit(f"build_deb: the bundle has no executable for {', '.join(missing)}")
    _link_identical_executables(target, names)
    bin_dir = root / "usr/bin"
    bin_dir.mkdir(parents=True)
    for program in names:
        (bin_dir / program).symlink_to(Path("..") / "lib" / name / program)
    applications = root / "usr/share/applications"
    applications.mkdir(parents=True)
    shutil.copy2(PACKAGING / f"{name}.desktop", applications / f"{name}.desktop")
    icons = root / "usr/share/icons/hicolor/scalable/apps"
    icons.mkdir(parents=True)
    shutil.copy2(PACKAGING / f"{name}.svg", icons / f"{name}.svg")
    for path in root.rglob("*"):
        # dpkg keeps the modes it is given: readable by everyone, writable by root only.
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644)


def control(root: Path, bundle: Path) -> str:
    meta = project()
    depends, suggests = dependencies(bundle)
    authors = meta.get("authors") or [{"name": "epay-desktop maintainers"}]
    maintainer = authors[0].get("name", "epay-desktop maintainers")  # type: ignore[index]
    lines = [
        f"Package: {meta['name']}",
        f"Version: {meta['version']}",
        f"Architecture: {architecture()}",
        f"Maintainer: {maintainer} <maintainers@epay-desktop.invalid>",
        f"Installed-Size: {_installed_size_kib(root)}",
        f"Depends: {', '.join(depends)}",
        *([f"Suggests: {', '.join(suggests)}"] if suggests else []),
        "Section: misc",
        "Priority: optional",
        f"Description: {meta['description']}",
        " The window (epay-desktop) lists Vipps MobilePay ePayment payments with their state and",
        " lets you cancel, capture and refund them safely. The package also holds the command line",
        f" ({', '.join(p for p in programs() if p != meta['name'])}); a built-in sandbox opens in",
        " Demo mode without any set-up.",
    ]
    return "\n".join(lines) + "\n"


def build(out: Path, work: Path, bundle: Path | None) -> Path:
    meta = project()
    bundle = bundle or freeze(work)
    root = work / "root"
    if root.exists():
        shutil.rmtree(root)
    stage(bundle, root)
    (root / "DEBIAN").mkdir(mode=0o755)
    (root / "DEBIAN" / "control").write_text(control(root, bundle), encoding="utf-8")
    out.mkdir(parents=True, exist_ok=True)
    deb = out / f"{meta['name']}_{meta['version']}_{architecture()}.deb"
    # zstd packs ~200 MB in seconds on two cores; dpkg reads it since Debian 12 and Ubuntu 21.10.
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-Zzstd", "-z6", "--build", str(root), str(deb)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return deb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="build_deb", description="Build the .deb of epay-desktop.")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="where the .deb goes (dist/)")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "deb", help="work folder (build/deb)")
    parser.add_argument("--bundle", type=Path, help="an existing PyInstaller folder: do not freeze again")
    parser.add_argument(
        "--print-system-packages",
        action="store_true",
        help="print every Debian package a Depends can name (for installing them first), and stop",
    )
    args = parser.parse_args(argv)
    if args.print_system_packages:
        print("\n".join(sorted(set(SYSTEM_LIBRARIES.values()))))
        return 0
    if not sys.platform.startswith("linux") or shutil.which("dpkg-deb") is None:
        print("build_deb: needs Linux with dpkg-deb (Debian's dpkg package)", file=sys.stderr)
        return 2
    deb = build(args.out.resolve(), args.work.resolve(), args.bundle.resolve() if args.bundle else None)
    print(deb)
    return 0


if __name__ == "__main__":
    sys.exit(main())
