"""An inbound MTA for the tests and the demo: receives mail over SMTP (aiosmtpd, loopback, no
TLS) and pipes each message, once per recipient, into `chikaya mail-in --sender S --recipient R`,
as Postfix's pipe(8) does. The program's exit status becomes the SMTP answer, the way an MTA
treats sysexits: 0 accepted, 75 "451 try again later" (the sender keeps the message and retries),
anything else "554" (refused for good).

    python inbound_mta.py --port PORT --chikaya /path/to/chikaya [--log FILE] [--port-file FILE]

Each piped message is appended to --log as one JSON line: recipient, sender, exit status, stderr.
The environment (DATABASE_URL, CHIKAYA_*) is passed on to chikaya unchanged.
Needs aiosmtpd (installed into .chikaya/venv by scripts/lib/venv.sh).
"""

import argparse
import asyncio
import json
import os
import signal


class PipeHandler:
    def __init__(self, chikaya, log):
        self.chikaya = chikaya
        self.log = log

    async def handle_DATA(self, server, session, envelope):
        worst = 0
        for recipient in envelope.rcpt_tos:
            process = await asyncio.create_subprocess_exec(
                self.chikaya, "mail-in", "--sender", envelope.mail_from or "", "--recipient", recipient,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out, err = await process.communicate(envelope.original_content)
            status = process.returncode
            if self.log:
                with open(self.log, "a", encoding="utf-8") as f:
                    f.write(json.dumps({"recipient": recipient, "sender": envelope.mail_from, "status": status,
                                        "stderr": err.decode("utf-8", "replace")}) + "\n")
            if status != 0 and worst != 75:
                worst = status
        if worst == 0:
            return "250 2.0.0 Delivered to chikaya mail-in"
        if worst == 75:
            return "451 4.3.0 chikaya mail-in: try again later"
        return "554 5.6.0 chikaya mail-in refused the message"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--chikaya", required=True)
    parser.add_argument("--log")
    args = parser.parse_args()

    from aiosmtpd.smtp import SMTP

    handler = PipeHandler(args.chikaya, args.log)

    async def serve():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(handler, enable_SMTPUTF8=True, decode_data=False, hostname="chikaya-inbound-mta"),
            host=args.host, port=args.port)
        port = server.sockets[0].getsockname()[1]
        if args.port_file:
            with open(args.port_file + ".tmp", "w") as f:
                f.write(f"{port}\n")
            os.replace(args.port_file + ".tmp", args.port_file)
        print(f"inbound MTA on {args.host}:{port}, piping to {args.chikaya} mail-in", flush=True)
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        server.close()
        await server.wait_closed()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
