"""Relay for scripts/soak: takes every message (no TLS, no AUTH) and appends its Message-ID, one
line per message received, to a file, so the soak can count what arrived and what arrived twice.

The line is written and flushed before the 250 reply: a message the relay answered is always
counted, and one counted but never answered (the relay killed in between) is what the sender
must resend, the one way a duplicate can honestly arise."""
import argparse
import threading

from aiosmtpd.controller import Controller
from peer_process import serve_until_signalled


class CountingHandler:
    def __init__(self, path):
        self.out = open(path, "a", buffering=1, encoding="ascii", errors="replace")
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message_id = "-"
        for line in envelope.original_content.split(b"\r\n"):
            if not line:
                break
            if line[:11].lower() == b"message-id:":
                message_id = line[11:].strip().decode("ascii", "replace")
                break
        with self.lock:
            self.out.write(message_id + "\n")
            self.out.flush()
        return "250 2.0.0 Counted"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True, help="file the Message-IDs are appended to")
    args = parser.parse_args()
    controller = Controller(CountingHandler(args.log), hostname="127.0.0.1", port=args.port,
                            decode_data=False, enable_SMTPUTF8=True)
    serve_until_signalled(controller)


if __name__ == "__main__":
    main()
