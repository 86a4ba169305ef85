"""Webhooks in the window: :func:`attach_live_updates` links one window to its profile's
``WebhookFeed``:

- rows change through the desk's change feed like every other change (a webhook publishes
  ``PaymentChanged(source="webhook")``; the table's changes adapter applies it): the customer approves,
  a capture lands, a cancel is confirmed, and the row moves without a poll;
- the Notifications dock lists every delivery (``ui/window/notifications.py``; the status bar's
  webhook button opens it);
- polling stays as the fallback, slower while webhooks flow (``SLOWER`` times its usual intervals);
- a profile whose register is fed by ``epay-webhooks`` is checked every ``WATCH_MS`` for what it wrote.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QMenu, QToolButton

from epay_desktop.i18n import _
from epay_desktop.ui.window.notifications import NotificationsDock

if TYPE_CHECKING:
    from epay_desktop.services.webhook_feed import WebhookFeed
    from epay_desktop.services.webhook_inbox import Received
    from epay_desktop.ui.window.main_window import MainWindow

log = logging.getLogger(__name__)

SLOWER = 4
LIVE_CHECK_MS = 5_000
WATCH_MS = 2_000
DOCK_HEIGHT = 170  # about five notifications


class LiveUpdates:
    """The link between one window and its profile's webhooks (see the module docstring)."""

    def __init__(self, window: MainWindow, feed: WebhookFeed) -> None:
        self.window = window
        self.feed = feed
        self.dock = NotificationsDock(window, locale=window.locale_)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        # Once the dock is laid out (a resize asked before that is ignored).
        QTimer.singleShot(0, self.dock, self._size_dock)
        profile_menu_of(window).addAction(self.dock.toggleViewAction())
        # Closed at first: at the usual window size it would squeeze the details panel. The status bar's
        # webhook button (and Profile ▸ Notifications) opens it.
        self.dock.hide()
        self.indicator = QToolButton(window)
        self.indicator.setObjectName("WebhooksIndicator")
        self.indicator.setAutoRaise(True)
        self.indicator.setAccessibleName(_("Webhooks: show the notifications"))
        self.indicator.clicked.connect(self.show_notifications)
        window.statusBar().addPermanentWidget(self.indicator)
        flow = window.refresh_flow
        self._auto_ms = flow.auto_timer.interval()
        self._poll_ms = flow.poll_timer.interval()
        assert window.desk is not None, "bind the window to its desk first"
        self._unsubscribe = [feed.subscribe(self._received)]
        self._live_timer = QTimer(window, interval=LIVE_CHECK_MS)
        self._live_timer.timeout.connect(self._pace)
        self._live_timer.start()
        self._watch_timer: QTimer | None = None
        if feed.watch is not None:
            self._watch_timer = QTimer(window, interval=WATCH_MS)
            self._watch_timer.timeout.connect(self._check_register)
            self._watch_timer.start()
        self._pace()

    def show_notifications(self) -> None:
        self.dock.show()
        self.dock.raise_()
        self._size_dock()

    def _size_dock(self) -> None:
        self.window.resizeDocks([self.dock], [DOCK_HEIGHT], Qt.Orientation.Vertical)

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._live_timer.stop()
        if self._watch_timer is not None:
            self._watch_timer.stop()

    def _received(self, received: Received) -> None:
        self.dock.add(received)
        event = received.notification.event
        self.window.show_status(
            _("Webhook: {display_name} for {reference}.").format(
                display_name=event.display_name, reference=event.reference
            )
        )
        self._pace()

    def _pace(self) -> None:
        """Polling is the fallback: slower while webhooks flow, as usual otherwise."""
        flowing = self.feed.flowing()
        flow = self.window.refresh_flow
        factor = SLOWER if flowing else 1
        for timer, base in ((flow.auto_timer, self._auto_ms), (flow.poll_timer, self._poll_ms)):
            if timer.interval() != base * factor:
                timer.setInterval(base * factor)
        if flowing:
            self.indicator.setText(
                _("Webhooks live · {received} received").format(received=self.feed.received)
            )
            self.indicator.setToolTip(
                _("Rows change as webhooks arrive; polling runs slower as a fallback. Click: Notifications.")
            )
        elif self.feed.in_process:
            self.indicator.setText(_("Webhooks on (Demo)"))
            self.indicator.setToolTip(
                _("The Demo sandbox sends webhooks to this window. Click: Notifications.")
            )
        else:
            self.indicator.setText(_("Webhooks: none lately · polling"))
            self.indicator.setToolTip(
                _(
                    "No webhook reached the register lately (epay-webhooks feeds it); polling keeps it "
                    "current."
                )
            )

    def _check_register(self) -> None:
        self.window.runner.start("register-watch", self._watch_once(), replace=False)

    async def _watch_once(self) -> None:
        from epay_desktop.store import RegisterError

        try:
            await self.feed.check_register()
        except RegisterError as error:  # busy for a moment (epay-webhooks writing): next tick
            log.info("could not check the register for webhooks: %s", error)


def profile_menu_of(window: MainWindow) -> QMenu:
    # Found by id, never by its (translated) title: a second "Profile" menu would take Alt+P.
    return window.action_set.menus["profile"]


def attach_live_updates(window: MainWindow, feed: WebhookFeed) -> LiveUpdates:
    """Link ``window`` (bound to its desk) to ``feed``; the link ends when the window closes."""
    live = LiveUpdates(window, feed)
    window.closed.connect(live.close)
    return live
