"""An enrollment request that waits longer than <auth><timeout> for the
client.keys lock (held here by another process) is rejected instead of
adding a key that the agent, gone by then, would never receive."""

import fcntl
import os
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonlib as dl  # noqa: E402


def enroll(port, name):
    """Enrolls name over TLS; returns the reply bytes (b"" when closed)."""
    try:
        return dl.enroll_request(
            port, b"OSSEC A:'%s' V:'v4.14.7'\n" % name.encode())
    except (OSError, ssl.SSLError):
        return b""


def main():
    dl.require_daemon()
    tap = dl.Tap()
    work = dl.scratch_dir("authd-late")
    port, auth_port = dl.free_port(), dl.free_port()
    config = dl.config_xml(
        port, extra="<auth><port>%d</port><timeout>1s</timeout></auth>\n"
        % auth_port)
    d = dl.Daemon(work, port=port, config=config)
    try:
        d.start()
        lock_path = os.path.join(d.data_dir, "client.keys.lock")
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            started = time.monotonic()
            result = {}
            t = threading.Thread(
                target=lambda: result.update(reply=enroll(auth_port, "late")))
            t.start()
            # Hold the lock past the 1 s timeout, then let the daemon in.
            time.sleep(3)
            fcntl.flock(lock, fcntl.LOCK_UN)
            t.join(60)
        tap.ok(time.monotonic() - started >= 3, "lock held past the timeout")
        reply = result.get("reply", b"")
        tap.ok(not reply.startswith(b"OSSEC K:"), "late request gets no key",
               reply)
        d.wait_for_log("waited too long for client.keys")
        keys = os.path.join(d.data_dir, "client.keys")
        text = open(keys).read() if os.path.exists(keys) else ""
        tap.ok(" late " not in text, "late agent not in client.keys", text)
        reply = enroll(auth_port, "late")
        tap.ok(reply.startswith(b"OSSEC K:'001 late any "),
               "name free for a new request", reply)
        tap.equal(d.stop(), 0, "SIGTERM exits 0")
    finally:
        d.kill()
        dl.cleanup(work)
    tap.done()


main()
