"""Outgoing mail: SMTP when ARTIFACT_SMTP_HOST is set, else printed to the console (development).

Sending happens on a background thread, so a request that mails takes as long as one that does
not (no account enumeration through timing); failures are logged, never shown to the caller.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mailer:
    host: str | None
    port: int = 587
    user: str | None = None
    password: str | None = None
    sender: str = "artifact@localhost"
    starttls: bool = True
    timeout: int = 10

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Mailer:
        return cls(
            config.get("SMTP_HOST"),
            int(config.get("SMTP_PORT") or 587),
            config.get("SMTP_USER"),
            config.get("SMTP_PASSWORD"),
            config.get("SMTP_FROM") or "artifact@localhost",
            bool(config.get("SMTP_STARTTLS")),
            int(config.get("SMTP_TIMEOUT") or 10),
        )

    def message(self, to: str, subject: str, body: str) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg.set_content(body)
        return msg

    def compose(
        self,
        to: str,
        subject: str,
        text: str,
        html: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> EmailMessage:
        """A message with a plain-text part and, when given, an HTML alternative."""
        msg = self.message(to, subject, text)
        if html is not None:
            msg.add_alternative(html, subtype="html")
        for name, value in (headers or {}).items():
            msg[name] = value
        return msg

    def deliver(self, msg: EmailMessage) -> None:
        """Send now (on the caller's thread)."""
        if not self.host:
            sys.stdout.write(f"--- mail (ARTIFACT_SMTP_HOST unset) ---\n{msg}\n--- end ---\n")
            sys.stdout.flush()
            return
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(msg)

    def send_later(self, to: str, subject: str, body: str) -> threading.Thread:
        msg = self.message(to, subject, body)

        def run() -> None:
            try:
                self.deliver(msg)
            except Exception:  # logged: the user already got the neutral answer
                log.exception("sending mail to %s failed", to)

        thread = threading.Thread(target=run, name="artifact-mail", daemon=True)
        thread.start()
        return thread
