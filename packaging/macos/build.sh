#!/usr/bin/env bash
# Build the macOS app and its disk image: PyInstaller makes dist/epay-desktop.app (every program
# pyproject.toml declares sits in Contents/MacOS; the window is the bundle's executable), then hdiutil
# packs it with a link to /Applications into dist/epay-desktop-<version>.dmg.
# Run after `uv sync --locked --group packaging`, on macOS.
#
# Signing is ready, not required: with MACOS_SIGN_IDENTITY set (a "Developer ID Application" identity in
# the keychain) the app is signed with the hardened runtime; with NOTARY_PROFILE too (a notarytool
# keychain profile) the disk image is notarized and stapled.
set -euo pipefail
cd "$(dirname "$0")/../.."

version="$(uv run --no-sync python -c "import tomllib; print(tomllib.load(open('pyproject.toml', 'rb'))['project']['version'])")"
echo "epay-desktop $version"

uv run --no-sync pyinstaller --noconfirm --distpath dist --workpath build/pyinstaller packaging/epay-desktop.spec
app="dist/epay-desktop.app"
test -x "$app/Contents/MacOS/epay-desktop"

if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
    codesign --force --deep --options runtime --timestamp --sign "$MACOS_SIGN_IDENTITY" "$app"
    codesign --verify --deep --strict "$app"
fi

stage="$(mktemp -d)"
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"
dmg="dist/epay-desktop-$version.dmg"
rm -f "$dmg"
hdiutil create -volname "epay-desktop $version" -srcfolder "$stage" -fs HFS+ -format UDZO "$dmg"
rm -rf "$stage"

if [ -n "${MACOS_SIGN_IDENTITY:-}" ] && [ -n "${NOTARY_PROFILE:-}" ]; then
    codesign --force --timestamp --sign "$MACOS_SIGN_IDENTITY" "$dmg"
    xcrun notarytool submit "$dmg" --keychain-profile "$NOTARY_PROFILE" --wait
    xcrun stapler staple "$dmg"
fi
echo "$dmg"
