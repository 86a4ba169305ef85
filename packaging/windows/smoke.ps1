# Smoke-test the Windows installer on a runner: install silently for this user into a fresh folder,
# start the window with --smoke and a throwaway home, read the demo data with epay, uninstall, and
# check that the folder is gone.
$ErrorActionPreference = "Stop"
$Root = Resolve-Path (Join-Path $PSScriptRoot "..\..")
$Installer = Get-ChildItem (Join-Path $Root "dist\installer\*-setup.exe") | Select-Object -First 1
$Target = Join-Path $env:RUNNER_TEMP "epay-desktop-installed"
$env:EPAY_DESKTOP_HOME = Join-Path $env:RUNNER_TEMP "epay-home"

$Setup = Start-Process $Installer.FullName -Wait -PassThru `
    -ArgumentList "/VERYSILENT", "/SUPPRESSMSGBOXES", "/CURRENTUSER", "/NORESTART", "/DIR=$Target"
if ($Setup.ExitCode -ne 0) { throw "the installer failed: $($Setup.ExitCode)" }

foreach ($Program in "epay-desktop", "epay", "epay-sandbox") {
    if (-not (Test-Path (Join-Path $Target "$Program.exe"))) { throw "$Program.exe was not installed" }
}

# A windowed program: Start-Process -Wait gives its exit code.
$Window = Start-Process (Join-Path $Target "epay-desktop.exe") -ArgumentList "--smoke" -Wait -PassThru
if ($Window.ExitCode -ne 0) { throw "epay-desktop --smoke failed: $($Window.ExitCode)" }

& (Join-Path $Target "epay.exe") --version
& (Join-Path $Target "epay.exe") list --limit 3
if ($LASTEXITCODE -ne 0) { throw "epay list failed" }

$Uninstall = Start-Process (Join-Path $Target "unins000.exe") -Wait -PassThru `
    -ArgumentList "/VERYSILENT", "/SUPPRESSMSGBOXES", "/NORESTART"
if ($Uninstall.ExitCode -ne 0) { throw "the uninstaller failed: $($Uninstall.ExitCode)" }
Start-Sleep -Seconds 5  # the uninstaller removes its own copy a moment after it exits
if (Test-Path (Join-Path $Target "epay-desktop.exe")) { throw "the uninstaller left the programs behind" }
Write-Host "installed, started, read the demo data, uninstalled"
