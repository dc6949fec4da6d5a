"""Decodes one saved message with Python's own email parser and prints subject, text and HTML as
JSON: an independent reader, so the Swift tests do not grade their own MIME writer."""
import json
import sys
from email import policy
from email.parser import BytesParser

with open(sys.argv[1], "rb") as handle:
    message = BytesParser(policy=policy.default).parse(handle)
text = message.get_body(preferencelist=("plain",))
html = message.get_body(preferencelist=("html",))
print(json.dumps({
    "subject": str(message["subject"]),
    "from": str(message["from"]),
    "to": str(message["to"]),
    # Bodies travel in canonical CRLF form (RFC 2045); compare them as local text.
    "text": text.get_content().replace("\r\n", "\n") if text else None,
    "html": html.get_content().replace("\r\n", "\n") if html else None,
    "defects": [type(d).__name__ for part in message.walk() for d in part.defects],
}, ensure_ascii=False))
