"""A local SMTP server whose mail can be read: `make run` and the test stack send notices' email here
unless NOTIFY_SMTP_URL points elsewhere (issue 22).

    python -m simulators.mailbox [--host H] [--port P] [--dir var/mail]

Every message is kept as received in a Maildir folder (`var/mail/new/`): read it with any mail
client (`mutt -f var/mail`), or `python -m simulators.mailbox --list`. It accepts any recipient
and relays nothing.
"""

from simulators.mailbox.server import MaildirHandler, read_mail, serve

__all__ = ["MaildirHandler", "read_mail", "serve"]
