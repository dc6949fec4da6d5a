"""What every aiosmtpd-based peer does as a process: serve until SIGTERM or SIGINT, then stop
cleanly (the test scripts stop their peers with SIGTERM and wait for them)."""

import signal
import threading


def serve_until_signalled(controller):
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()
