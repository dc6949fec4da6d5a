"""Test relay for Chikaya: aiosmtpd with STARTTLS required and AUTH, saving each message it
receives as a numbered .eml file so integration tests can check what really arrived."""
import argparse
import itertools
import os
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from peer_process import serve_until_signalled


class SavingHandler:
    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            number = next(self.counter)
        path = os.path.join(self.directory, f"{number:06d}.eml")
        with open(path + ".tmp", "wb") as out:
            out.write(envelope.original_content)
        os.replace(path + ".tmp", path)
        return "250 2.0.0 Saved"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--maildir", required=True)
    args = parser.parse_args()
    os.makedirs(args.maildir, exist_ok=True)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login.decode() == args.user
              and auth_data.password.decode() == args.password)
        return AuthResult(success=ok, handled=False)

    controller = Controller(
        SavingHandler(args.maildir), hostname="127.0.0.1", port=args.port,
        tls_context=context, require_starttls=True, authenticator=authenticate,
        auth_required=True, auth_require_tls=True, decode_data=False, enable_SMTPUTF8=True)
    serve_until_signalled(controller)


if __name__ == "__main__":
    main()
