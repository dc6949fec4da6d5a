"""Baseline for scripts/bench-mail: Python's smtplib send_message, N messages over one
connection, printing the elapsed seconds."""
import argparse
import smtplib
import time
from email.message import EmailMessage

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--count", type=int, required=True)
args = parser.parse_args()

started = time.monotonic()
with smtplib.SMTP("127.0.0.1", args.port) as smtp:
    for number in range(args.count):
        message = EmailMessage()
        message["From"] = "notifications@casablanca.ma"
        message["To"] = "citizen@example.ma"
        message["Subject"] = "Votre réclamation TEST-0001 a été transmise"
        message.set_content("Bonjour,\n\nVotre réclamation TEST-0001 a été transmise au service « Éclairage public ».\n")
        message.add_alternative("<p>Votre réclamation <b>TEST-0001</b> a été transmise.</p>", subtype="html")
        smtp.send_message(message)
print(f"{time.monotonic() - started:.6f}")
