"""The banner that says where you are: which profile, whether it is production, demo or test, and
whether the register is open read-only. Painted before the desk is bound (the profile is known before
the first paint) and again when it is."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel, QWidget

from epay_desktop.i18n import _
from epay_desktop.ui.theme import set_banner

if TYPE_CHECKING:
    from epay_desktop.services import Profile


class ProfileBanner(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        set_banner(self, "opening", _("Opening the profile…"))

    def show_profile(self, profile: Profile, *, read_only: bool = False, damage: str = "") -> None:
        if read_only:
            set_banner(
                self,
                "production" if profile.is_production else "read-only",
                _read_only_text(profile.name, profile.is_production, damage),
            )
        elif profile.is_production:
            set_banner(
                self,
                "production",
                _("PRODUCTION — {name}: real payments, real money.").format(name=profile.name),
            )
        elif profile.is_team:
            set_banner(
                self, "team", _("TEAM — {name} at {url}.").format(name=profile.name, url=profile.base_url)
            )
        elif profile.is_demo:
            set_banner(self, "demo", _("DEMO — built-in sandbox with demo data. Nothing real is touched."))
        elif profile.unencrypted:
            set_banner(
                self,
                "test",
                _(
                    "SANDBOX — {name} at {url}: NOT ENCRYPTED (plain http://). Use it for a sandbox only."
                ).format(name=profile.name, url=profile.effective_base_url),
            )
        else:
            set_banner(
                self, "test", _("TEST environment — {name}. No real money moves.").format(name=profile.name)
            )

    def show_team(
        self,
        profile: Profile,
        *,
        agent: str,
        role: str,
        online: bool,
        problem: str = "",
        fetched: str = "",
    ) -> None:
        """A Team profile: whose desk it is and, when the server is out of reach, that the list is the
        one last read from the server (``fetched``: when; "" when this computer kept none) and nothing
        can be changed."""
        if online:
            set_banner(
                self,
                "team",
                _("TEAM — {name} at {url}: logged in as {agent} ({role}).").format(
                    name=profile.name, url=profile.base_url, agent=agent, role=role
                ),
            )
        else:
            if fetched:
                text = _(
                    "TEAM SERVER OUT OF REACH — {name}: the list is as it was last read from the "
                    "server ({when}), read-only; nothing can be changed until the server answers again. "
                    "Reconnecting…"
                ).format(name=profile.name, when=fetched)
            else:
                text = _(
                    "TEAM SERVER OUT OF REACH — {name}: no list of this profile was kept on this computer; "
                    "the team's payments show once the server answers again. Reconnecting…"
                ).format(name=profile.name)
            set_banner(self, "read-only", text + (f" ({problem})" if problem else ""))


def _read_only_text(name: str, production: bool, damage: str) -> str:
    if production:
        text = _(
            "PRODUCTION — READ-ONLY — {name}: the register could not be opened for writing. You can look "
            "and refresh; nothing is changed or saved."
        )
    else:
        text = _(
            "READ-ONLY — {name}: the register could not be opened for writing. You can look and refresh; "
            "nothing is changed or saved."
        )
    text = text.format(name=name)
    return _("{banner} {damage}").format(banner=text, damage=damage) if damage else text


__all__ = ["ProfileBanner"]
