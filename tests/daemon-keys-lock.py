#!/usr/bin/env python3
"""wazlabd and wazlab-agents change client.keys at the same time: agents
enroll over TLS while wazlab-agents adds agents in parallel. Every agent
that received a key or was reported added must be in the final file with
its own id, and no id may be handed out twice. A temporary file that a
killed save left is removed at start."""

import os
import re
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonlib as dl  # noqa: E402

AGENTS_TOOL = os.path.join(dl.BUILD_DIR, "wazlab-agents")
PAIRS = 60  # enrollments and wazlab-agents additions, each


def enroll(port, name):
    """Enrolls name over TLS; returns (id, name, key) or None."""
    try:
        reply = dl.enroll_request(
            port, b"OSSEC A:'%s' V:'v4.14.7'\n" % name.encode())
    except (OSError, ssl.SSLError):
        return None
    m = re.match(rb"OSSEC K:'(\S+) (\S+) (\S+) (\S+)'", reply)
    if not m:
        return None
    return m.group(1).decode(), m.group(2).decode(), m.group(4).decode()


def add(data_dir, name):
    """Runs wazlab-agents add; returns the id it reported, or None."""
    r = subprocess.run([AGENTS_TOOL, "-d", data_dir, "add", name],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60)
    m = re.search(rb"Agent added: ID (\d+), name ", r.stdout)
    if r.returncode != 0 or not m:
        return None
    return m.group(1).decode()


def read_keys(data_dir):
    """Returns the active lines of client.keys as (id, name, key)."""
    with open(os.path.join(data_dir, "client.keys")) as f:
        lines = f.read().splitlines()
    parts = [line.split(" ") for line in lines]
    return [(p[0], p[1], p[3]) for p in parts
            if len(p) == 4 and not p[1].startswith("!")]


def main():
    dl.require_daemon()
    if not os.access(AGENTS_TOOL, os.X_OK):
        dl.skip_all("wazlab-agents not built")
    tap = dl.Tap()
    work = dl.scratch_dir("keys-lock")
    port, auth_port = dl.free_port(), dl.free_port()
    config = dl.config_xml(port, extra="  <auth><port>%d</port></auth>\n"
                           % auth_port)
    d = dl.Daemon(work, port=port, config=config)
    try:
        # A temporary file that a save killed with kill -9 leaves behind.
        os.makedirs(d.data_dir, mode=0o750)
        stale = os.path.join(d.data_dir, "client.keysQw3rT9")
        with open(stale, "w") as f:
            f.write("001 old any 0123\n")
        d.start()
        tap.ok(not os.path.exists(stale), "stale temporary file removed "
               "at start")

        # An agent added by the tool, then one enrollment 0.2 s later.
        first = add(d.data_dir, "manual1")
        tap.equal(first, "001", "tool adds the first agent")
        time.sleep(0.2)
        got = enroll(auth_port, "tls-a")
        tap.ok(got is not None and got[0] != first,
               "enrollment after the tool gets a new id", repr(got))
        names = {k[1] for k in read_keys(d.data_dir)}
        tap.ok({"manual1", "tls-a"} <= names, "both agents in client.keys",
               repr(names))

        # Both writers at once.
        enrolled, added = [], []
        lock = threading.Lock()
        start = threading.Barrier(2 * PAIRS)

        def agent(i):
            start.wait()
            got = enroll(auth_port, "tls-%d" % i)
            if got is not None:
                with lock:
                    enrolled.append(got)

        def tool(i):
            start.wait()
            got = add(d.data_dir, "manual-%d" % i)
            if got is not None:
                with lock:
                    added.append((got, "manual-%d" % i))

        threads = [threading.Thread(target=agent, args=(i,))
                   for i in range(PAIRS)]
        threads += [threading.Thread(target=tool, args=(i,))
                    for i in range(PAIRS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        tap.equal(len(enrolled), PAIRS, "every agent enrolled")
        tap.equal(len(added), PAIRS, "every tool addition succeeded")

        on_disk = read_keys(d.data_dir)
        ids = [k[0] for k in on_disk]
        tap.equal(len(ids), len(set(ids)), "no id twice in client.keys")
        missing = [g for g in enrolled if g not in set(on_disk)]
        tap.equal(missing, [], "every enrolled key in client.keys")
        by_id = {k[0]: k[1] for k in on_disk}
        lost = [a for a in added if by_id.get(a[0]) != a[1]]
        tap.equal(lost, [], "every added agent in client.keys")
        handed = [g[0] for g in enrolled] + [a[0] for a in added]
        tap.equal(len(handed), len(set(handed)), "no id handed out twice")
        tap.equal(d.stop(), 0, "daemon exits cleanly")
    except Exception as e:  # report, then fail the plan
        tap.ok(False, "test ran to the end", repr(e))
    finally:
        d.kill()
        dl.cleanup(work)
    tap.done()


if __name__ == "__main__":
    main()
