#!/usr/bin/env python3
"""Attacks on wazlabd's agent ports while a good agent sends. Each bad
frame or client is rejected, logged with its reason and counted in the
counters the daemon logs at SIGTERM. The good agent (wazlab-send
--native) loses nothing."""

import os
import re
import socket
import ssl
import struct
import subprocess
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonlib as dl  # noqa: E402

SIM = os.path.join(dl.BUILD_DIR, "tests", "agent-sim")
SEND = os.path.join(dl.BUILD_DIR, "wazlab-send")
AGENTS_TOOL = os.path.join(dl.BUILD_DIR, "wazlab-agents")
PASSWORD = "lab-secret-42"
GOOD_EVENTS = 3000
EVENT = ('{"Message":"good %d","Event":"<Event xmlns=\'http://schemas.'
         'microsoft.com/win/2004/08/events/event\'><System><Provider '
         'Name=\'Microsoft-Windows-Security-Auditing\'/><EventID>4624'
         '</EventID><EventRecordID>%d</EventRecordID></System></Event>"}')


def run(args, timeout=300):
    return subprocess.run(args, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=timeout)


def add_agent(data_dir, name):
    """Adds an agent with wazlab-agents; returns its id and keys line."""
    out = run([AGENTS_TOOL, "-d", data_dir, "add", name]).stdout.decode()
    agent_id = out.split("ID ")[1].split(",")[0]
    line = run([AGENTS_TOOL, "-d", data_dir, "show-key", "--line",
                agent_id]).stdout.decode().strip()
    return agent_id, line


def sim_attack(port, kind, line, other=None):
    args = [SIM, "--port", str(port), "--keys-line", line, "--attack", kind]
    if other:
        args += ["--other-line", other]
    return run(args).stdout.decode("utf-8", "replace")


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


def ping_then(port, data):
    """Opens a native connection with '#ping', then sends data. Returns
    how the daemon ended the connection, or "sent" for a frame cut short,
    which the client closes itself."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        sock.sendall(dl.frame(b"#ping"))
        reply = sock.recv(64)
        if b"#pong" not in reply:
            return "no pong: %r" % reply
        sock.sendall(data)
        if data.startswith(struct.pack("<I", 100)):
            return "sent"
        return dl.read_until_closed(sock, timeout=30)
    finally:
        sock.close()


def counter(log, pattern):
    m = re.search(pattern, log)
    return int(m.group(1)) if m else None


def main():
    dl.require_daemon()
    for tool in (SIM, SEND, AGENTS_TOOL):
        if not os.access(tool, os.X_OK):
            dl.skip_all("%s not built" % tool)
    tap = dl.Tap()
    work = dl.scratch_dir("security")
    port, auth_port = dl.free_port(), dl.free_port()
    data_dir = os.path.join(work, "data")
    os.makedirs(data_dir)
    with open(os.path.join(data_dir, "authd.pass"), "w") as f:
        f.write(PASSWORD + "\n")
    a_id, a_line = add_agent(data_dir, "attacker-a")
    b_id, b_line = add_agent(data_dir, "attacker-b")
    events = os.path.join(work, "events.txt")
    with open(events, "w") as f:
        for i in range(GOOD_EVENTS):
            f.write(EVENT % (i, i) + "\n")

    config = dl.config_xml(
        port,
        extra_remote="    <verify_msg_id>yes</verify_msg_id>\n"
                     "    <handshake_timeout>1s</handshake_timeout>\n",
        extra="  <auth><port>%d</port><use_password>yes</use_password>"
              "<timeout>1s</timeout></auth>\n" % auth_port)
    d = dl.Daemon(work, port=port, config=config, data_dir=data_dir)
    good = None
    try:
        d.start()
        good = subprocess.Popen(
            [SEND, "--native", "--enroll", "--password", PASSWORD,
             "--port", str(port), "--enroll-port", str(auth_port),
             "--name", "good", "--rate", "1500", events],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

        out = sim_attack(port, "wrong-key", a_line)
        tap.ok("attack=closed" in out, "wrong key closes", out)
        out = sim_attack(port, "other-id", a_line, b_line)
        tap.ok("attack=closed" in out, "another agent's id closes", out)
        out = sim_attack(port, "bound-other", a_line, b_line)
        tap.ok("attack=closed" in out, "switching agents closes", out)
        out = sim_attack(port, "truncated", a_line)
        tap.ok("attack=closed" in out, "truncated ciphertext closes", out)
        out = run([SIM, "--port", str(port), "--keys-line", b_line,
                   "--replay"]).stdout.decode()
        tap.ok("replay=rejected" in out, "replayed frame closes", out)
        end = ping_then(port, struct.pack("<I", 70000) + b"!" * 64)
        tap.equal(end, "closed", "oversized frame closes")
        end = ping_then(port, struct.pack("<I", 100) + b"!001!#AES:" +
                        b"x" * 20)
        tap.equal(end, "sent", "frame cut short sent")
        tap.ok(old_tls_client(port).startswith("rejected"),
               "TLS 1.1 refused on the event port")
        tap.ok(old_tls_client(auth_port).startswith("rejected"),
               "TLS 1.1 refused on enrollment")
        r = run([SEND, "--native", "--enroll", "--password", "wrong",
                 "--port", str(port), "--enroll-port", str(auth_port),
                 "--name", "intruder", os.devnull])
        tap.ok(r.returncode == 1 and b"Invalid password" in r.stdout,
               "wrong password refused", r.stdout.decode())
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        tap.equal(dl.read_until_closed(sock, timeout=30), "closed",
                  "silent connection closed after the timeout")
        sock.close()
        sock = socket.create_connection(("127.0.0.1", auth_port), timeout=30)
        tap.ok(dl.read_until_closed(sock, timeout=30) in ("closed", "reset"),
               "silent enrollment client closed after the timeout")
        sock.close()

        out, _ = good.communicate(timeout=300)
        tap.equal(good.returncode, 0, "good agent finishes")
        tap.ok(b"%d events sent" % GOOD_EVENTS in out,
               "good agent sent every event", out.decode())
        d.wait_for_log("closed inside a frame")
        tap.equal(d.stop(), 0, "daemon exits cleanly")

        log = d.log()
        checks = [
            ("wrong key", "agent %s) rejected: decryption failed" % a_id,
             r"decryption failed \(wrong key\): (\d+)", 2),
            ("agent switch", "rejected: connection is bound to another",
             r"bound to another agent: (\d+)", 1),
            ("truncated", "rejected: ciphertext is not a whole",
             r"whole number of cipher blocks: (\d+)", 1),
            ("replay", "agent %s) rejected: message counters not newer"
             % b_id, r"\(replay\): (\d+)", 1),
            ("oversized", "frame length over 65536 bytes",
             r"frame or message too large: (\d+)", 1),
            ("cut short", "closed inside a frame; 34 bytes discarded",
             r"connection closed inside a frame: (\d+)", 1),
        ]
        for name, line, pattern, expected in checks:
            tap.ok(line in log, "%s logged" % name)
            tap.equal(counter(log, pattern), expected, "%s counted" % name)
        tap.ok(re.search(r"TLS handshake failed: .*(unsupported protocol|"
                         r"version)", log) is not None,
               "TLS 1.1 on the event port logged")
        tap.ok(re.search(r"enrollment: TLS handshake with 127.0.0.1 failed"
                         r": .*(unsupported protocol|version)", log)
               is not None, "TLS 1.1 on enrollment logged")
        tap.ok("rejected: ERROR: Invalid password" in log,
               "wrong password logged")
        tap.ok("TLS handshake timed out after 1000 ms" in log,
               "silent connection logged")
        tap.ok("enrollment: TLS handshake with 127.0.0.1 failed: connection "
               "closed or timed out" in log, "silent enrollment client logged")
        # TLS 1.1, the silent client and six closed by the agent protocol.
        tap.equal(counter(log, r"connections \d+, rejected (\d+)"), 8,
                  "event port rejections counted")
        tap.equal(counter(log, r"control messages, \d+ replies, (\d+) "
                          r"rejected"), 7, "agent protocol rejections counted")
        tap.ok(re.search(r"enrollment: \d+ connections, 1 agents added, "
                         r"1 rejected, 2 failed", log) is not None,
               "enrollment rejections counted")

        rows = dl.query(d.db_path,
                        "SELECT COUNT(*), COUNT(DISTINCT CAST(message AS "
                        "TEXT)) FROM events WHERE agent_name = 'good-0' "
                        "AND CAST(message AS TEXT) LIKE 'f:%'")
        tap.equal(rows[0], (GOOD_EVENTS, GOOD_EVENTS),
                  "good agent's events all stored once")
    except Exception as e:  # report, then fail the plan
        tap.ok(False, "test ran to the end", repr(e))
    finally:
        if good is not None and good.poll() is None:
            good.kill()
            good.wait()
        d.kill()
        dl.cleanup(work)
    tap.done()


if __name__ == "__main__":
    main()
