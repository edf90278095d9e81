#!/usr/bin/env python3
"""client.keys survives kill -9 during a burst of enrollments: 100 agents
enroll at once and the daemon is killed after the first replies. The file
must still parse, and every agent that received a key must be in it with
that id and key. The daemon then starts again with the file."""

import os
import re
import signal
import ssl
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonlib as dl  # noqa: E402

AGENTS_TOOL = os.path.join(dl.BUILD_DIR, "wazlab-agents")
AGENTS = 100
KILL_AFTER = 30  # replies received before the kill


def enroll(port, name):
    """Enrolls name; returns (id, name, key) or None."""
    try:
        reply = dl.enroll_request(
            port, b"OSSEC A:'%s' V:'v4.14.7'\n" % name.encode())
    except (OSError, ssl.SSLError):
        return None
    m = re.match(rb"OSSEC K:'(\S+) (\S+) (\S+) (\S+)'", reply)
    if not m:
        return None
    return m.group(1).decode(), m.group(2).decode(), m.group(4).decode()


def main():
    dl.require_daemon()
    if not os.access(AGENTS_TOOL, os.X_OK):
        dl.skip_all("wazlab-agents not built")
    tap = dl.Tap()
    work = dl.scratch_dir("keys-kill")
    port, auth_port = dl.free_port(), dl.free_port()
    config = dl.config_xml(port, extra="  <auth><port>%d</port></auth>\n"
                           % auth_port)
    d = dl.Daemon(work, port=port, config=config)
    received = []
    lock = threading.Lock()
    enough = threading.Event()
    start = threading.Barrier(AGENTS)

    def agent(i):
        start.wait()
        got = enroll(auth_port, "burst-%d" % i)
        if got is not None:
            with lock:
                received.append(got)
                if len(received) >= KILL_AFTER:
                    enough.set()

    try:
        d.start()
        threads = [threading.Thread(target=agent, args=(i,))
                   for i in range(AGENTS)]
        for t in threads:
            t.start()
        enough.wait(timeout=120)
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait()
        for t in threads:
            t.join()
        with lock:
            got = list(received)
        tap.ok(len(got) >= KILL_AFTER, "agents enrolled before the kill",
               "only %d" % len(got))
        tap.diag("%d of %d agents received a key" % (len(got), AGENTS))

        keys = os.path.join(d.data_dir, "client.keys")
        with open(keys) as f:
            lines = f.read().splitlines()
        fields = [line.split(" ") for line in lines]
        tap.ok(all(len(p) == 4 for p in fields), "every line has 4 fields",
               "\n".join(lines[:5]))
        on_disk = {(p[0], p[1], p[3]) for p in fields if len(p) == 4}
        missing = [g for g in got if g not in on_disk]
        tap.equal(missing, [], "every received key is in client.keys")
        listed = subprocess.run([AGENTS_TOOL, "-d", d.data_dir, "list"],
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, timeout=60)
        tap.equal(listed.returncode, 0, "wazlab-agents reads the file")
        tap.ok(b"line" not in listed.stdout,
               "no malformed line reported", listed.stdout.decode())
        leftovers = [n for n in os.listdir(d.data_dir)
                     if n.startswith("client.keys") and n != "client.keys"]
        tap.diag("files next to client.keys: %s" % leftovers)

        d2 = dl.Daemon(work, port=port, config=config, data_dir=d.data_dir,
                       name="restart")
        try:
            d2.start()
            tap.ok("agent keys: %d agents" % len(on_disk) in d2.log(),
                   "daemon restarts with every key", d2.log())
            tap.equal(d2.stop(), 0, "restarted daemon exits cleanly")
        finally:
            d2.kill()
    except Exception as e:  # report, then fail the plan
        tap.ok(False, "test ran to the end", repr(e))
    finally:
        d.kill()
        dl.cleanup(work)
    tap.done()


if __name__ == "__main__":
    main()
