"""Reads Prometheus text exposition with prometheus_client's own parser, for the tests.

Usage: prometheus_parse.py [--raw] SOURCE, where SOURCE is a file, '-' for standard input, or
an http:// URL (fetched once with GET). Prints one JSON object per line: first
{"status": ..., "content_type": ..., "body": ...} (status and type null for a file; body only
with --raw, which parses nothing), then one per sample with its family's name, type and help.
A text the parser refuses, or a URL that cannot be fetched, exits 1 with the error on stderr.
Needs prometheus_client (installed in .chikaya/venv by scripts/lib/smtp-peers.sh).
"""
import json
import sys
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def read(source):
    if source.startswith("http://"):
        try:
            with urllib.request.urlopen(source, timeout=10) as response:
                return response.status, response.headers.get("Content-Type"), response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Content-Type"), error.read().decode("utf-8")
    if source == "-":
        return None, None, sys.stdin.read()
    with open(source, encoding="utf-8") as handle:
        return None, None, handle.read()


def main():
    raw = sys.argv[1] == "--raw"
    try:
        status, content_type, text = read(sys.argv[-1])
    except (OSError, urllib.error.URLError) as error:
        print(f"cannot read {sys.argv[-1]}: {error}", file=sys.stderr)
        return 1
    print(json.dumps({"status": status, "content_type": content_type, "body": text if raw else None}))
    if raw or status not in (None, 200):
        return 0
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as error:  # the parser's refusal is the test's finding
        print(f"prometheus_client refused the text: {error!r}", file=sys.stderr)
        return 1
    for family in families:
        for sample in family.samples:
            print(json.dumps({"family": family.name, "type": family.type, "help": family.documentation,
                              "name": sample.name, "labels": sample.labels, "value": sample.value}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
