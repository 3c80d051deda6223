"""Peers for the notification tests, independent of our code.

  tools.py smtp-sink <port> <dir>   an SMTP server (aiosmtpd) on 127.0.0.1 that writes each message
                                    it receives to <dir> as JSON: envelope, headers, and the
                                    decoded text and HTML parts
  tools.py verify-webhook <secret>  reads {"body": ..., "headers": {...}} on stdin and verifies
                                    the signature with the Standard Webhooks reference library;
                                    prints the verified payload, exits 1 when it does not verify
"""
import email
import json
import os
import sys
import threading
import uuid
from email import policy


def smtp_sink(port: int, directory: str) -> None:
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            message = email.message_from_bytes(envelope.content, policy=policy.default)
            text = message.get_body(preferencelist=("plain",))
            html = message.get_body(preferencelist=("html",))
            record = {
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "from": str(message["from"]),
                "to": str(message["to"]),
                "subject": str(message["subject"]),
                "message_id": str(message["message-id"]),
                "outbox_id": message["x-partnerhub-outbox-id"],
                "text": text.get_content() if text is not None else None,
                "html": html.get_content() if html is not None else None,
            }
            name = os.path.join(directory, f"{uuid.uuid4().hex}.json")
            with open(name + ".part", "w", encoding="utf-8") as out:
                json.dump(record, out)
            os.replace(name + ".part", name)
            return "250 Message accepted for delivery"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    threading.Event().wait()


def verify_webhook(secret: str) -> None:
    from standardwebhooks.webhooks import Webhook

    request = json.load(sys.stdin)
    try:
        payload = Webhook(secret).verify(request["body"], request["headers"])
    except Exception as error:  # the library's own verification errors
        print(f"not verified: {error}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(payload))


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "smtp-sink":
        smtp_sink(int(sys.argv[2]), sys.argv[3])
    elif command == "verify-webhook":
        verify_webhook(sys.argv[2])
    else:
        sys.exit(f"unknown command {command}")
