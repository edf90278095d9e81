"""wazlabd with <ssl_ca>: only clients with a certificate from that CA may
send, the agent name is the certificate's CN and its id stays the same
after a restart."""

import os
import shutil
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonlib as dl  # noqa: E402


def try_send(port, cert=None, key=None):
    """Sends one frame; returns how the connection ended."""
    try:
        s = dl.tls_connect(port, cert, key)
    except (ssl.SSLError, OSError) as e:
        return "handshake failed: %s" % e
    try:
        s.sendall(dl.frame(b"1:intruder:must not be stored"))
        return dl.read_until_closed(s)
    except (ssl.SSLError, OSError) as e:
        return "send failed: %s" % e
    finally:
        s.close()


def main():
    dl.require_daemon()
    if shutil.which("openssl") is None:
        dl.skip_all("openssl command not found")
    tap = dl.Tap()
    work = dl.scratch_dir("mtls")
    d = None
    try:
        dl.make_ca(work, "ca")
        dl.make_ca(work, "other-ca")
        one = dl.make_client(work, "ca", "one", "agent-one")
        two = dl.make_client(work, "ca", "two", "agent-two")
        stranger = dl.make_client(work, "other-ca", "stranger", "agent-three")
        bad_name = dl.make_client(work, "ca", "badname", "bad name!")

        port = dl.free_port()
        config = dl.config_xml(
            port, extra_remote="    <ssl_ca>%s</ssl_ca>\n" %
            os.path.join(work, "ca.pem"))
        d = dl.Daemon(work, port=port, config=config).start()
        tap.ok("client certificates required" in d.log(),
               "listener logs mutual TLS")

        bodies = [b"f:EventChannel:{\"n\":%d}" % i for i in range(100)]
        # A prefix naming another agent does not change the identity.
        bodies.append(b"f:[007] (forged) any->EventChannel:{}")
        dl.send_all(port, bodies, *one)
        dl.send_all(port, [b"1:app:two says hi"], *two)

        end = try_send(port, *stranger)
        tap.ok(end != "timeout", "certificate of another CA rejected", end)
        end = try_send(port)
        tap.ok(end != "timeout", "client without certificate rejected", end)
        end = try_send(port, *bad_name)
        tap.ok(end != "timeout", "invalid CN rejected", end)

        # The rejected clients saw their connection closed by the daemon;
        # the two good ones are read to the end before the daemon stops.
        d.wait_for_log("closed: ", count=2)
        tap.equal(d.stop(), 0, "first run exits 0")
        log = d.log()
        tap.ok("TLS handshake failed" in log, "rejection logged", log[-3000:])
        tap.ok("not a valid agent name" in log, "invalid CN logged")
        tap.ok("rejected 3," in log, "three rejections counted")

        rows = dl.query(d.db_path, "SELECT agent_id, agent_name, count(*) "
                        "FROM events GROUP BY 1, 2 ORDER BY 1")
        tap.equal(rows, [("001", "agent-one", 101), ("002", "agent-two", 1)],
                  "rows carry the certificate CN and a stable id")
        stored = dl.query(d.db_path, "SELECT count(*) FROM events WHERE "
                          "CAST(message AS TEXT) LIKE '%intruder%'")
        tap.equal(stored[0][0], 0, "nothing stored from rejected clients")
        agents = dl.query(d.db_path, "SELECT id, name FROM agents ORDER BY 1")
        tap.equal(agents, [("001", "agent-one"), ("002", "agent-two")],
                  "agents table lists both agents")
        ips = dl.query(d.db_path, "SELECT DISTINCT ip FROM agents")
        tap.equal(ips, [("127.0.0.1",)], "agents table stores the peer address")

        # After a restart, the second agent connects first and keeps 002.
        d.start()
        dl.send_all(port, [b"1:app:two again"], *two)
        dl.send_all(port, [b"1:app:one again"], *one)
        sender = os.path.join(dl.BUILD_DIR, "wazlab-send")
        closes = 2
        if os.access(sender, os.X_OK):
            lines = os.path.join(work, "lines.txt")
            with open(lines, "w") as f:
                f.write("sent by wazlab-send 1\nsent by wazlab-send 2\n")
            done = subprocess.run([sender, "--port", str(port), "--cert",
                                   one[0], "--key", one[1], "--queue", "1",
                                   "--location", "app", lines],
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
            tap.equal(done.returncode, 0, "wazlab-send with a certificate")
            closes += 1
            # Rejected after the TLS 1.3 handshake: wazlab-send notices.
            for name, extra in (("no certificate", []),
                                ("invalid CN", ["--cert", bad_name[0],
                                                "--key", bad_name[1]])):
                done = subprocess.run([sender, "--port", str(port)] + extra +
                                      ["--queue", "1", "--location", "app",
                                       lines],
                                      stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE)
                tap.equal(done.returncode, 1,
                          "wazlab-send with %s exits 1" % name)
                tap.ok(b"sent 2 events" not in done.stdout,
                       "wazlab-send with %s prints no summary" % name,
                       done.stdout.decode())
                tap.ok(b"the server at 127.0.0.1" in done.stderr,
                       "wazlab-send with %s explains" % name,
                       done.stderr.decode())
        d.wait_for_log("closed: ", count=closes)
        tap.equal(d.stop(), 0, "second run exits 0")
        if closes == 3:
            rows = dl.query(d.db_path, "SELECT agent_name, count(*) FROM "
                            "events WHERE location = 'app' AND CAST(message "
                            "AS TEXT) LIKE '%wazlab-send%' GROUP BY 1")
            tap.equal(rows, [("agent-one", 2)],
                      "wazlab-send rows carry the CN")
        rows = dl.query(d.db_path, "SELECT agent_id, agent_name FROM events "
                        "WHERE CAST(message AS TEXT) LIKE '%again' ORDER BY 1")
        tap.equal(rows, [("001", "agent-one"), ("002", "agent-two")],
                  "ids survive a restart")
        # Analysis sees the CN in front of the location, the archive does not.
        prefixed = dl.query(d.db_path, "SELECT CAST(message AS TEXT) FROM "
                            "events WHERE CAST(message AS TEXT) LIKE '_:[%'")
        tap.equal(prefixed, [("f:[007] (forged) any->EventChannel:{}",)],
                  "messages stored as received")
    finally:
        if d is not None:
            d.kill()
        dl.cleanup(work) if os.environ.get("WL_KEEP") is None else None
    tap.done()


main()
