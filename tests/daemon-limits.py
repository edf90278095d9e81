"""wazlabd limits the connections clients can keep and logs what it
rejects. Stalled connections time out and connections over the limit are
closed at once. Decoder drops and rejected frames are logged with their
agent. Many short connections write a bounded number of log lines."""

import os
import re
import socket
import ssl
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonlib as dl  # noqa: E402

SHORT_CONNECTIONS = 60


def old_tls_client(port):
    """Connects with TLS 1.1 at most; returns how the handshake ended."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        ctx.wrap_socket(sock).close()
        return "connected"
    except ssl.SSLError as e:
        return "rejected: %s" % e
    except OSError as e:
        return "closed: %s" % e
    finally:
        sock.close()


def wait_for_room(port):
    """Waits until the daemon has seen closed connections and accepts
    another one under its connection limit."""
    deadline = time.monotonic() + 60
    while True:
        try:
            sock = dl.tls_connect(port)
            sock.sendall(dl.frame(b"1:probe:room again"))
            sock.unwrap()
            sock.close()
            return
        except (ssl.SSLError, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def counter(log, pattern):
    m = re.search(pattern, log)
    return int(m.group(1)) if m else None


def main():
    dl.require_daemon()
    tap = dl.Tap()
    work = dl.scratch_dir("limits")
    port = dl.free_port()
    extra = ("    <recv_timeout>2s</recv_timeout>\n"
             "    <max_connections>4</max_connections>\n")
    d = dl.Daemon(work, port=port, debug=False,
                  config=dl.config_xml(port, extra_remote=extra))
    try:
        d.start()

        # An established connection that sends nothing is closed.
        s = dl.tls_connect(port)
        tap.equal(dl.read_until_closed(s, timeout=30), "closed",
                  "idle TLS connection closed after recv_timeout")
        s.close()
        # So is one that sent only part of a frame.
        s = dl.tls_connect(port)
        s.sendall((100).to_bytes(4, "little") + b"1:partial:")
        tap.equal(dl.read_until_closed(s, timeout=30), "closed",
                  "partial frame closed after recv_timeout")
        s.close()

        # So is an agent protocol connection inside a frame.
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.sendall((100).to_bytes(4, "little") + b"!001!#AES:" + b"x" * 10)
        tap.equal(dl.read_until_closed(s, timeout=30), "closed",
                  "partial agent frame closed after recv_timeout")
        s.close()

        # A client that keeps sending frames is never cut.
        s = dl.tls_connect(port)
        for i in range(8):
            s.sendall(dl.frame(b"1:steady:event %d" % i))
            time.sleep(0.5)
        s.unwrap()
        s.close()

        # Over the limit: the fifth connection is closed at once.
        open_socks = [dl.tls_connect(port) for _ in range(4)]
        extra_sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        tap.equal(dl.read_until_closed(extra_sock, timeout=30), "closed",
                  "connection over max_connections closed")
        extra_sock.close()
        for sock in open_socks:
            sock.close()
        wait_for_room(port)

        # Decoder drops and control characters, from a named agent.
        prefix = b"f:[007] (dropper) any->EventChannel:"
        dl.send_all(port, [prefix + b"{bad", prefix + b'{"Message":"x"}',
                           prefix + b"[1,2]"])
        s = dl.tls_connect(port)
        s.sendall(dl.frame(b"f:[001] (x\x1b[31mRED) any->Event\x1b]0;pwn"
                           b"\x07Channel:{}"))
        tap.equal(dl.read_until_closed(s, timeout=30), "closed",
                  "control characters in the agent prefix close")
        s.close()

        # Old TLS versions are rejected and logged.
        old = old_tls_client(port)
        tap.ok(not old.startswith("connected"), "TLS 1.1 refused", old)

        # Many short connections: a bounded number of log lines.
        before = len(d.log().splitlines())
        for i in range(SHORT_CONNECTIONS):
            dl.send_all(port, [b"1:short:event %d" % i])
        time.sleep(1)
        lines = len(d.log().splitlines()) - before
        tap.ok(lines < 10, "%d short connections wrote %d log lines"
               % (SHORT_CONNECTIONS, lines), d.log())

        tap.equal(d.stop(), 0, "SIGTERM exits 0")
        log = d.log()
        tap.ok(re.search(r"WARNING: connection \d+ \(agent 007 dropper\): "
                         r"message dropped by the decoder .*first bytes "
                         r"\"f:\[007\] \(dropper\)", log) is not None,
               "drop logged with connection, agent and sample", log)
        tap.ok("Malformed EventChannel" not in log,
               "decoder writes no line of its own")
        tap.equal(counter(log, r"dropped by the decoders (\d+)"), 3,
                  "three drops counted")
        tap.ok("2 similar lines suppressed (analysis-dropped)" in log,
               "suppressed drop lines reported at shutdown")
        tap.ok("control character 0x1b in the location or agent name" in log,
               "control character logged")
        tap.ok(re.search(r"similar lines suppressed \(conn-(accepted|"
                         r"closed)\)", log) is not None,
               "suppressed connection lines reported")
        tap.ok("no complete frame for 2 s" in log, "timeout logged")
        tap.ok("refused: 4 connections open" in log, "limit logged")
        tap.ok(re.search(r"TLS handshake failed: .*(unsupported protocol|"
                         r"version).*TLS 1.2 or later is required", log)
               is not None, "old TLS version logged")
        tap.equal(counter(log, r"connections timed out (\d+)"), 3,
                  "three timeouts counted")
        tap.ok(counter(log, r"over the limit (\d+)") >= 1,
               "connection over the limit counted")
        tap.equal(counter(log, r"old TLS versions refused (\d+)"), 1,
                  "old TLS version counted")
        rows = dl.query(d.db_path, "SELECT count(*) FROM events "
                        "WHERE location = 'steady'")
        tap.equal(rows[0][0], 8, "steady sender stored every event")
        rows = dl.query(d.db_path, "SELECT count(*) FROM events WHERE "
                        "instr(agent_name, char(27)) OR "
                        "instr(location, char(27))")
        tap.equal(rows[0][0], 0, "no control character stored")
        rows = dl.query(d.db_path, "SELECT count(*) FROM events "
                        "WHERE location = 'EventChannel' "
                        "AND agent_id = '007'")
        tap.equal(rows[0][0], 3, "dropped messages archived")
    finally:
        d.kill()
    if not os.environ.get("WL_KEEP"):
        dl.cleanup(work)
    tap.done()


if __name__ == "__main__":
    main()
