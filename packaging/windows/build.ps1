# Build the Windows installer: PyInstaller freezes every program pyproject.toml declares into
# dist\epay-desktop\, then Inno Setup packs it into dist\installer\epay-desktop-<version>-setup.exe.
# Run from anywhere, after `uv sync --locked --group packaging`. Needs Inno Setup 6 (ISCC.exe).
#
# Signing is ready, not required: with WINDOWS_CERTIFICATE_PFX (a path) and WINDOWS_CERTIFICATE_PASSWORD
# set, signtool signs the programs before they are packed and the installer after.
$ErrorActionPreference = "Stop"
$Root = Resolve-Path (Join-Path $PSScriptRoot "..\..")
Set-Location $Root

$Version = (uv run --no-sync python -c "import tomllib; print(tomllib.load(open('pyproject.toml', 'rb'))['project']['version'])").Trim()
Write-Host "epay-desktop $Version"

uv run --no-sync pyinstaller --noconfirm --distpath dist --workpath build\pyinstaller packaging\epay-desktop.spec
if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed" }

function Sign-Files([string[]] $Paths) {
    if (-not $env:WINDOWS_CERTIFICATE_PFX) { return }
    $SignTool = Get-ChildItem "${env:ProgramFiles(x86)}\Windows Kits\10\bin\*\x64\signtool.exe" |
        Sort-Object FullName -Descending | Select-Object -First 1
    & $SignTool.FullName sign /fd SHA256 /tr http://timestamp.digicert.com /td SHA256 `
        /f $env:WINDOWS_CERTIFICATE_PFX /p $env:WINDOWS_CERTIFICATE_PASSWORD $Paths
    if ($LASTEXITCODE -ne 0) { throw "signtool failed" }
}

Sign-Files (Get-ChildItem dist\epay-desktop\*.exe | ForEach-Object FullName)

$Iscc = Join-Path ${env:ProgramFiles(x86)} "Inno Setup 6\ISCC.exe"
& $Iscc "/DAppVersion=$Version" "/DSourceDir=$Root\dist\epay-desktop" "/O$Root\dist\installer" packaging\windows\epay-desktop.iss
if ($LASTEXITCODE -ne 0) { throw "Inno Setup failed" }

Sign-Files (Get-ChildItem dist\installer\*.exe | ForEach-Object FullName)
Get-ChildItem dist\installer
