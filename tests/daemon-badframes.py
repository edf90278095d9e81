"""wazlabd closes connections that send bad frames, logs why, and loses
nothing from a good sender running at the same time."""

import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonlib as dl  # noqa: E402

GOOD_EVENTS = 5000


def bad_client(port, data, tls=True):
    """Sends data and returns how the daemon ended the connection."""
    if tls:
        s = dl.tls_connect(port)
    else:
        s = socket.create_connection(("127.0.0.1", port), timeout=60)
    try:
        s.sendall(data)
        return dl.read_until_closed(s)
    except OSError as e:
        return "send failed: %s" % e
    finally:
        s.close()


def byte_per_write(port, body):
    s = dl.tls_connect(port)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for b in dl.frame(body):
        s.sendall(bytes([b]))
        time.sleep(0.001)
    s.unwrap()
    s.close()


def main():
    dl.require_daemon()
    tap = dl.Tap()
    work = dl.scratch_dir("badframes")
    port = dl.free_port()
    d = dl.Daemon(work, port=port, config=dl.config_xml(
        port, extra_remote="    <handshake_timeout>3s</handshake_timeout>\n"))
    try:
        d.start()
        good = [b"1:good:event %d" % i for i in range(GOOD_EVENTS)]
        errors = []

        def good_sender():
            try:
                dl.send_all(d.port, good, batch=16, pause=0.002)
            except Exception as e:  # reported as a failed check below
                errors.append(repr(e))

        sender = threading.Thread(target=good_sender)
        sender.start()

        end = bad_client(d.port, b"\x00\x00\x00\x00")
        tap.ok(end != "timeout", "zero length closes the connection", end)
        end = bad_client(d.port, (70000).to_bytes(4, "little") + b"x" * 100)
        tap.ok(end != "timeout", "length 70,000 closes the connection", end)
        end = bad_client(d.port, dl.frame(b"1:plain:not encrypted"),
                         tls=False)
        tap.equal(end, "closed", "plain TCP client is closed")
        end = bad_client(d.port, dl.frame(b"1:mixed:valid before garbage") +
                         dl.frame(b"garbage without queue"))
        tap.ok(end != "timeout", "garbage after a valid frame closes", end)
        byte_per_write(d.port, b"1:slow:one byte per write")
        end = bad_client(d.port, b"", tls=False)
        tap.equal(end, "closed", "silent client closed after the timeout")
        end = bad_client(d.port, b"\x16", tls=False)
        tap.equal(end, "closed", "stalled first byte closed after timeout")

        sender.join()
        tap.ok(not errors, "good sender finishes", "\n".join(errors))
        # Good sender and byte-per-write client, read to the end.
        d.wait_for_log("closed: closed by the peer", count=2)
        tap.equal(d.stop(), 0, "SIGTERM exits 0")

        log = d.log()
        tap.ok("zero frame length 0" in log, "zero length logged", log)
        tap.ok("oversized frame length 70000" in log, "oversized logged")
        tap.ok("not a TLS connection; first bytes" in log,
               "plain TCP logged with a sample")
        tap.ok("unparsable frame of 21 bytes" in log, "garbage logged")
        tap.ok("frames rejected 3," in log, "three bad frames counted")
        tap.ok("TLS handshake timed out after 3000 ms" in log,
               "handshake timeout logged")
        tap.ok("rejected 6," in log, "six rejected connections counted")

        rows = dl.query(d.db_path, "SELECT CAST(message AS TEXT) FROM events "
                        "WHERE location = 'good'")
        tap.equal(sorted(r[0].encode() for r in rows), sorted(good),
                  "good sender lost nothing")
        rows = dl.query(d.db_path, "SELECT CAST(message AS TEXT) FROM events "
                        "WHERE location <> 'good' ORDER BY 1")
        tap.equal([r[0] for r in rows],
                  ["1:mixed:valid before garbage",
                   "1:slow:one byte per write"],
                  "valid frame before garbage and slow frame stored")
    finally:
        d.kill()
        dl.cleanup(work)
    tap.done()


main()
