"""Send a composed email over SMTP: STARTTLS, implicit TLS or plain, with optional AUTH. smtplib only.

SMTP 4xx replies, timeouts and dropped connections are transient; 5xx replies (a refused address, a rejected
message) and failed authentication are permanent. The password never appears in an error.
"""

from __future__ import annotations

import smtplib
import ssl
from typing import Literal

from alerts.channels import PermanentDeliveryError, TransientDeliveryError
from alerts.redact import redact


class EmailSender:
    def __init__(self, host: str, port: int, security: Literal["starttls", "tls", "none"], username: str,
                 password: str, timeout: float, context: ssl.SSLContext | None = None):
        self._host, self._port, self._security = host, port, security
        self._username, self._password = username, password
        self._timeout = timeout
        self._context = context or ssl.create_default_context()
        self.where = f"SMTP server {host}:{port}"

    def _connect(self) -> smtplib.SMTP:
        if self._security == "tls":
            return smtplib.SMTP_SSL(self._host, self._port, timeout=self._timeout, context=self._context)
        return smtplib.SMTP(self._host, self._port, timeout=self._timeout)

    def send(self, payload: dict, message_id: str) -> None:
        try:
            with self._connect() as smtp:
                smtp.ehlo()
                if self._security == "starttls":
                    smtp.starttls(context=self._context)
                    smtp.ehlo()
                if self._username:
                    smtp.login(self._username, self._password)
                # A str message: smtplib turns bare \n into \r\n. The composed message is pure ASCII.
                smtp.sendmail(payload["from"], payload["to"], payload["eml"])
        except smtplib.SMTPRecipientsRefused as exc:
            codes = {code for code, _ in exc.recipients.values()}
            verdict = f"{self.where} refused recipient {', '.join(exc.recipients)} ({self._reply(exc.recipients)})"
            if all(code >= 500 for code in codes):
                raise PermanentDeliveryError(verdict + ". Check the address.") from None
            raise TransientDeliveryError(verdict) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise PermanentDeliveryError(f"{self.where} refused the login of {self._username} "
                                         f"({exc.smtp_code}). Check smtp_username and the password variable.") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise PermanentDeliveryError(f"{self.where}: {self._clean(str(exc))}. "
                                         "Check smtp_security (starttls, tls or none).") from None
        except (smtplib.SMTPResponseException, smtplib.SMTPSenderRefused) as exc:
            verdict = f"{self.where} answered {exc.smtp_code} {self._clean(self._text(exc.smtp_error))}"
            if exc.smtp_code >= 500:
                raise PermanentDeliveryError(verdict) from None
            raise TransientDeliveryError(verdict) from None
        except ssl.SSLCertVerificationError as exc:
            raise PermanentDeliveryError(f"{self.where}: TLS certificate not trusted ({exc.verify_message}). "
                                         "Set ca_file on the channel for an internal CA.") from None
        except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
            # Timeouts, refused or dropped connections: the server may be back in a minute.
            raise TransientDeliveryError(f"{self.where} unavailable: {type(exc).__name__} "
                                         f"{self._clean(str(exc))}".rstrip()) from None

    def _clean(self, text: str) -> str:
        return redact(text, (self._password,))

    @staticmethod
    def _text(reply: bytes | str) -> str:
        return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)

    def _reply(self, refused: dict) -> str:
        return "; ".join(f"{code} {self._clean(self._text(text))}" for code, text in refused.values())
