"""A scripted SMTP relay for the fault tests: plain SMTP on loopback that misbehaves on purpose.

    python faulty_relay.py --port PORT --maildir DIR [options]

Messages it accepts (250 after the final dot) go to DIR/new, one file each, with LF line ends. Every message body it
reads, accepted or not, is also appended to DIR/attempts.log as one line with its Message-ID, so a
test can see that a message was sent again with the same Message-ID.

Options (all off by default):
  --reply-delay S         wait S seconds before every reply (a slow relay)
  --mail-reply TEXT       answer MAIL FROM with TEXT (e.g. "451 4.3.0 try again later")
  --close-after-dot N     for the first N messages read, close the connection right after the
                          final dot without any reply (the message is not kept)
  --421-after N           after N messages accepted in one session, answer the next command with
                          421 and close
  --idle-close S          close a connection silently once the client has said nothing for S s
Standard library only. Stops on SIGTERM or SIGINT.
"""

import argparse
import asyncio
import os
import re
import signal
import sys
import uuid

MESSAGE_ID = re.compile(rb"^message-id:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


class Relay:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.closes_left = args.close_after_dot
        os.makedirs(os.path.join(args.maildir, "new"), exist_ok=True)
        os.makedirs(os.path.join(args.maildir, "tmp"), exist_ok=True)
        self.attempts = open(os.path.join(args.maildir, "attempts.log"), "ab", buffering=0)

    async def reply(self, writer: asyncio.StreamWriter, text: str) -> None:
        if self.args.reply_delay > 0:
            await asyncio.sleep(self.args.reply_delay)
        writer.write(text.encode() + b"\r\n")
        await writer.drain()

    async def readline(self, reader: asyncio.StreamReader) -> bytes:
        if self.args.idle_close > 0:
            return await asyncio.wait_for(reader.readline(), self.args.idle_close)
        return await reader.readline()

    def keep(self, data: bytes) -> None:
        name = uuid.uuid4().hex
        tmp = os.path.join(self.args.maildir, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(self.args.maildir, "new", name))

    async def session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted = 0
        try:
            await self.reply(writer, "220 faulty-relay ESMTP")
            while True:
                line = await self.readline(reader)
                if not line:
                    return
                verb = line.strip().split(b" ", 1)[0].upper()
                if self.args.after_421 and accepted >= self.args.after_421 and verb != b"QUIT":
                    await self.reply(writer, "421 4.3.2 faulty-relay closing the session")
                    return
                if verb == b"EHLO":
                    await self.reply(writer, "250-faulty-relay\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760")
                elif verb == b"HELO":
                    await self.reply(writer, "250 faulty-relay")
                elif verb == b"MAIL":
                    await self.reply(writer, self.args.mail_reply or "250 2.1.0 ok")
                elif verb == b"RCPT":
                    await self.reply(writer, "250 2.1.5 ok")
                elif verb == b"DATA":
                    await self.reply(writer, "354 end with <CRLF>.<CRLF>")
                    body = bytearray()
                    while True:
                        chunk = await self.readline(reader)
                        if not chunk:
                            return
                        if chunk in (b".\r\n", b".\n"):
                            break
                        body += chunk[1:] if chunk.startswith(b"..") else chunk
                    found = MESSAGE_ID.search(bytes(body))
                    self.attempts.write((found.group(1) if found else b"-") + b"\n")
                    if self.closes_left > 0:
                        self.closes_left -= 1
                        return
                    # Stored with LF line ends, as a Maildir holds messages.
                    self.keep(bytes(body).replace(b"\r\n", b"\n"))
                    accepted += 1
                    await self.reply(writer, "250 2.0.0 queued")
                elif verb in (b"RSET", b"NOOP"):
                    await self.reply(writer, "250 2.0.0 ok")
                elif verb == b"QUIT":
                    await self.reply(writer, "221 2.0.0 bye")
                    return
                else:
                    await self.reply(writer, "502 5.5.2 not implemented")
        except (asyncio.TimeoutError, ConnectionError):
            return
        finally:
            writer.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--reply-delay", type=float, default=0)
    parser.add_argument("--mail-reply")
    parser.add_argument("--close-after-dot", type=int, default=0)
    parser.add_argument("--421-after", dest="after_421", type=int, default=0)
    parser.add_argument("--idle-close", type=float, default=0)
    args = parser.parse_args()
    relay = Relay(args)

    async def serve() -> None:
        server = await asyncio.start_server(relay.session, "127.0.0.1", args.port, reuse_address=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        server.close()

    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
