"""wazlabd stores 10,000 events from 4 concurrent TLS senders, each row
byte-identical to what was sent, and exits 0 on SIGTERM."""

import os
import random
import re
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonlib as dl  # noqa: E402

SENDERS = 4
PER_SENDER = 2500
WAZLAB_SEND = os.path.join(dl.BUILD_DIR, "wazlab-send")


def make_bodies(sender):
    """Messages of varied length and bytes: quotes, tabs, UTF-8, escapes."""
    rng = random.Random(sender)
    bodies = []
    for seq in range(PER_SENDER):
        payload = ('{"Message":"sender %d seq %d\\r\\n\\tx","Event":"<Event '
                   "xmlns='http://schemas.microsoft.com/win/2004/08/events/"
                   "event'><System><EventID>%d</EventID></System>"
                   "<EventData><Data Name='CommandLine'>%s</Data>"
                   '</EventData></Event>"}' %
                   (sender, seq, rng.randint(1, 9999),
                    "é\u00fc\u4e2d|:" * rng.randint(0, 40)))
        if seq % 2:
            body = "f:[%03d] (host-%d) any->EventChannel:%s" % (
                sender + 1, sender, payload)
        else:
            body = "f:EventChannel:" + payload
        bodies.append(body.encode("utf-8"))
    return bodies


def run_python_senders(d, all_bodies):
    errors = []

    def worker(bodies):
        try:
            dl.send_all(d.port, bodies)
        except Exception as e:  # reported as a failed check below
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(b,))
               for b in all_bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def check_rows(tap, d, sent, label):
    rows = dl.query(d.db_path, "SELECT message FROM events")
    tap.equal(len(rows), len(sent), label + ": row count")
    stored = sorted(bytes(r[0]) for r in rows)
    tap.ok(stored == sorted(sent),
           label + ": every stored message byte-identical")


def test_python(tap, label="python", remote="", extra=""):
    work = dl.scratch_dir("load")
    port = dl.free_port()
    d = dl.Daemon(work, port=port,
                  config=dl.config_xml(port, extra_remote=remote, extra=extra))
    try:
        d.start()
        all_bodies = [make_bodies(s) for s in range(SENDERS)]
        errors = run_python_senders(d, all_bodies)
        tap.ok(not errors, label + ": 4 senders finish", "\n".join(errors))
        # The daemon logs each connection's end once it has read it all.
        d.wait_for_log("closed: ", count=SENDERS)
        status = d.stop()
        tap.equal(status, 0, label + ": SIGTERM exits 0")
        log = d.log()
        tap.ok("frames %d," % (SENDERS * PER_SENDER) in log,
               label + ": final counters logged", log[-2000:])
        if remote:
            tap.ok(re.search(r"read pauses [1-9]", log) is not None,
                   label + ": reading paused for backpressure")
        check_rows(tap, d, [b for bodies in all_bodies for b in bodies],
                   label)
        agents = dl.query(d.db_path,
                          "SELECT DISTINCT agent_id, agent_name FROM events "
                          "WHERE location = 'EventChannel' ORDER BY 1")
        tap.ok(("001", "host-0") in agents and ("000", "127.0.0.1") in agents,
               label + ": agent from prefix or peer", agents)
        ok = dl.query(d.db_path, "SELECT count(*) FROM events WHERE "
                      "received LIKE '____-__-__T__:__:__.___Z'")
        tap.equal(ok[0][0], SENDERS * PER_SENDER,
                  label + ": received is UTC ISO 8601 with milliseconds")
    finally:
        d.kill()
        dl.cleanup(work)


def test_wazlab_send(tap):
    if not os.access(WAZLAB_SEND, os.X_OK):
        tap.ok(True, "wazlab-send: # SKIP not built")
        return
    work = dl.scratch_dir("load-send")
    d = dl.Daemon(work)
    try:
        d.start()
        inputs = []
        expected = []
        for s in range(SENDERS):
            path = os.path.join(work, "input-%d.txt" % s)
            with open(path, "wb") as f:
                for seq in range(PER_SENDER):
                    line = ('{"Message":"s%d n%d \u00e9","Event":"<Event '
                            "xmlns='x'/>\"}" % (s, seq)).encode("utf-8")
                    f.write(line + b"\n")
                    expected.append(b"f:[%03d] (sender-%d) any->EventChannel:"
                                    % (s + 1, s) + line)
            inputs.append(path)
        procs = [subprocess.Popen([WAZLAB_SEND, "--port", str(d.port),
                                   "--agent", "sender-%d" % s,
                                   "--agent-id", "%03d" % (s + 1),
                                   inputs[s]],
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
                 for s in range(SENDERS)]
        statuses = [p.wait(timeout=dl.EXIT_TIMEOUT) for p in procs]
        outputs = [p.stdout.read().decode("utf-8", "replace") for p in procs]
        tap.ok(statuses == [0] * SENDERS, "wazlab-send: 4 senders exit 0",
               "\n".join(outputs))
        d.wait_for_log("closed: ", count=SENDERS)
        tap.equal(d.stop(), 0, "wazlab-send: SIGTERM exits 0")
        check_rows(tap, d, expected, "wazlab-send")
        agents = dl.query(d.db_path, "SELECT agent_id, agent_name, count(*) "
                          "FROM events GROUP BY 1, 2 ORDER BY 1")
        tap.equal(agents, [("%03d" % (s + 1), "sender-%d" % s, PER_SENDER)
                           for s in range(SENDERS)],
                  "wazlab-send: agents from the location prefix")
    finally:
        d.kill()
        dl.cleanup(work)


def test_stop_with_open_connection(tap):
    """SIGTERM right after a send, with the connection still open: every
    frame the kernel received is stored. The 20 KB sent fit in a fresh
    loopback connection's receive window, so all of it has arrived when
    sendall() returns."""
    work = dl.scratch_dir("stop")
    d = dl.Daemon(work)
    try:
        d.start()
        bodies = [b"1:stop:event %d" % i for i in range(500)]
        s = dl.tls_connect(d.port)
        s.sendall(b"".join(dl.frame(b) for b in bodies))
        status = d.stop()
        s.close()
        tap.equal(status, 0, "stop with open connection: exits 0")
        rows = dl.query(d.db_path, "SELECT count(*) FROM events")[0][0]
        tap.equal(rows, len(bodies), "stop with open connection: all stored")
    finally:
        d.kill()
        dl.cleanup(work)


def main():
    dl.require_daemon()
    tap = dl.Tap()
    test_python(tap)
    # A tiny queue and one analysis thread: reads pause and resume often.
    test_python(tap, "small queue",
                remote="    <queue_size>8</queue_size>\n",
                extra="  <analysis><threads>1</threads></analysis>\n"
                "  <database><queue_size>4</queue_size></database>\n")
    test_wazlab_send(tap)
    test_stop_with_open_connection(tap)
    tap.done()


main()
