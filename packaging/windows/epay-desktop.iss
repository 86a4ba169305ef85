; Inno Setup script: the Windows installer of epay-desktop (an .exe, signable with signtool).
; Built by packaging/windows/build.ps1, which passes the version (from pyproject.toml) and the
; PyInstaller folder:
;   ISCC.exe /DAppVersion=0.1.0 /DSourceDir=dist\epay-desktop /Odist\installer epay-desktop.iss
; It installs per user by default (no administrator needed; the dialog offers all users), puts the
; window in the Start menu, and uninstalls everything it installed.

#ifndef AppVersion
  #error AppVersion must be given: /DAppVersion=X.Y.Z
#endif
#ifndef SourceDir
  #error SourceDir must be given: /DSourceDir=<the PyInstaller folder>
#endif

[Setup]
AppId={{6C1E0B7E-6F3B-4F0E-9C55-2F1C7E3A9D41}
AppName=epay-desktop
AppVersion={#AppVersion}
AppPublisher=epay-desktop maintainers
AppComments=A back-office for Vipps MobilePay ePayment payments
DefaultDirName={autopf}\epay-desktop
DefaultGroupName=epay-desktop
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputBaseFilename=epay-desktop-{#AppVersion}-setup
SetupIconFile=epay-desktop.ico
UninstallDisplayIcon={app}\epay-desktop.exe
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
VersionInfoVersion={#AppVersion}

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: recursesubdirs createallsubdirs ignoreversion

[Icons]
Name: "{autoprograms}\epay-desktop"; Filename: "{app}\epay-desktop.exe"
Name: "{autodesktop}\epay-desktop"; Filename: "{app}\epay-desktop.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Run]
Filename: "{app}\epay-desktop.exe"; Description: "{cm:LaunchProgram,epay-desktop}"; Flags: nowait postinstall skipifsilent
