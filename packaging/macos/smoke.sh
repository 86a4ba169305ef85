#!/usr/bin/env bash
# Smoke-test the disk image on a runner: mount it, start the app inside with --smoke and a throwaway
# home, read the demo data with the bundled epay, unmount.
set -euo pipefail
cd "$(dirname "$0")/../.."

dmg="$(ls dist/epay-desktop-*.dmg | head -n 1)"
mount_point="$(mktemp -d)"
hdiutil attach "$dmg" -nobrowse -readonly -mountpoint "$mount_point"
trap 'hdiutil detach "$mount_point" -force' EXIT

app="$mount_point/epay-desktop.app"
test -L "$mount_point/Applications"
EPAY_DESKTOP_HOME="$(mktemp -d)"
export EPAY_DESKTOP_HOME
"$app/Contents/MacOS/epay-desktop" --version
"$app/Contents/MacOS/epay-desktop" --smoke
"$app/Contents/MacOS/epay" list --limit 3
"$app/Contents/MacOS/epay-sandbox" --version
echo "mounted, started, read the demo data"
