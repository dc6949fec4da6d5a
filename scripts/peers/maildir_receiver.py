"""A local SMTP receiver for scripts/demo: keeps every message it receives in a Maildir.

    python maildir_receiver.py serve --maildir DIR [--host 127.0.0.1] [--port 0] [--port-file FILE]
    python maildir_receiver.py show --maildir DIR [--count 3] [--lines 6]

`serve` listens without TLS (loopback only) until SIGTERM or SIGINT; with --port 0 the system picks
a free port, written to --port-file once the socket listens. `show` prints the recipient, subject
and first body lines of delivered messages, an Arabic one and a French one first.
Needs aiosmtpd (installed by scripts/demo into .chikaya/venv).
"""

import argparse
import asyncio
import email
import email.policy
import mailbox
import os
import re
import signal
import sys
from pathlib import Path


def serve(args: argparse.Namespace) -> int:
    from aiosmtpd.handlers import Mailbox
    from aiosmtpd.smtp import SMTP

    for sub in ("tmp", "new", "cur"):  # Maildir() makes them only when the folder itself is new
        (Path(args.maildir) / sub).mkdir(parents=True, exist_ok=True)
    handler = Mailbox(args.maildir)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(handler, enable_SMTPUTF8=True, hostname="chikaya-demo-receiver"),
            host=args.host,
            port=args.port,
        )
        port = server.sockets[0].getsockname()[1]
        if args.port_file:
            tmp = args.port_file + ".tmp"
            with open(tmp, "w") as f:
                f.write(f"{port}\n")
            os.replace(tmp, args.port_file)
        print(f"listening on {args.host}:{port}, keeping mail in {args.maildir}", flush=True)
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        server.close()
        await server.wait_closed()

    asyncio.run(main())
    return 0


ARABIC = re.compile(r"[\u0600-\u06FF]")


def show(args: argparse.Namespace) -> int:
    box = mailbox.Maildir(args.maildir, create=False)
    paths = []
    for sub in ("new", "cur"):
        folder = Path(args.maildir) / sub
        if folder.is_dir():
            paths.extend(p for p in folder.iterdir() if p.is_file())
    paths.sort(key=lambda p: (p.stat().st_mtime, p.name))
    messages = []
    for path in paths:
        with open(path, "rb") as f:
            msg = email.message_from_binary_file(f, policy=email.policy.default)
        subject = str(msg.get("subject", ""))
        part = msg.get_body(preferencelist=("plain", "html"))
        try:
            body = part.get_content() if part is not None else ""
        except (LookupError, ValueError) as error:
            body = f"(undecodable body: {error})"
        messages.append((path, msg, subject, body))
    del box
    print(f"{len(messages)} message(s) in {args.maildir}")
    if not messages:
        return 0
    arabic = [m for m in messages if ARABIC.search(m[2])]
    french = [m for m in messages if not ARABIC.search(m[2])]
    chosen = []
    for group in (arabic, french, messages):
        for m in group:
            if len(chosen) >= args.count:
                break
            if m not in chosen:
                chosen.append(m)
                break
    for m in messages:
        if len(chosen) >= args.count:
            break
        if m not in chosen:
            chosen.append(m)
    for path, msg, subject, body in chosen:
        print()
        print(f"To:      {msg.get('to', '')}")
        print(f"Subject: {subject}")
        lines = [line for line in body.splitlines() if line.strip()][: args.lines]
        for line in lines:
            print(f"    {line}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--maildir", required=True)
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--port-file")
    s.set_defaults(run=serve)
    w = sub.add_parser("show")
    w.add_argument("--maildir", required=True)
    w.add_argument("--count", type=int, default=3)
    w.add_argument("--lines", type=int, default=6)
    w.set_defaults(run=show)
    args = parser.parse_args()
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
