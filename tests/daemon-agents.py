#!/usr/bin/env python3
"""wazlabd with Wazuh agents. Simulated agents (tests/agent-sim) enroll on
the enrollment port at the same time and speak the native protocol on the
event port: TCP, and UDP for a tenth of the events. Every event must be
stored under the agent's id. A key added with wazlab-agents while the
daemon runs is picked up without a restart.

WL_AGENTS_SCALE="AGENTS EVENTS" changes the scale (default "200 50")."""

import os
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonlib as dl  # noqa: E402

SIM = os.path.join(dl.BUILD_DIR, "tests", "agent-sim")
AGENTS_TOOL = os.path.join(dl.BUILD_DIR, "wazlab-agents")
UDP_EVERY = 10


def run(args, timeout=600):
    return subprocess.run(args, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=timeout)


def summary(output):
    for line in output.decode("utf-8", "replace").splitlines():
        if line.startswith("summary "):
            return dict(kv.split("=") for kv in line.split()[1:])
    return {}


def agent_ids(output):
    ids = {}
    for line in output.decode("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "agent":
            ids[parts[2]] = parts[1]
    return ids


def check_replay(tap, first, work, port, auth_port, line):
    """Runs the daemon again with the replay check on: an agent with
    growing counters is served, a repeated frame closes the connection."""
    config = dl.config_xml(port, extra_remote="    <verify_msg_id>yes"
                           "</verify_msg_id>\n",
                           extra="  <auth><port>%d</port></auth>\n"
                           % auth_port)
    d = dl.Daemon(work, port=port, config=config, data_dir=first.data_dir,
                  name="replay")
    try:
        d.start()
        r = run([SIM, "--port", str(port), "--keys-line", line,
                 "--events", "5"])
        tap.equal(r.returncode, 0, "replay check on: agent served")
        r = run([SIM, "--port", str(port), "--keys-line", line,
                 "--replay"])
        tap.ok("replay=rejected" in r.stdout.decode(),
               "replay check on: repeated frame closes the connection",
               r.stdout.decode())
        tap.equal(d.stop(), 0, "replay check on: daemon exits cleanly")
    finally:
        d.kill()


def main():
    dl.require_daemon()
    if not os.access(SIM, os.X_OK):
        dl.skip_all("tests/agent-sim not built")
    agents, events = 200, 50
    if os.environ.get("WL_AGENTS_SCALE"):
        agents, events = map(int, os.environ["WL_AGENTS_SCALE"].split())
    udp_per_agent = (events + UDP_EVERY - 1) // UDP_EVERY

    tap = dl.Tap()
    work = dl.scratch_dir("agents")
    port, auth_port = dl.free_port(), dl.free_port()
    config = dl.config_xml(port, extra_remote="    <protocol>tcp,udp"
                           "</protocol>\n",
                           extra="  <auth><port>%d</port></auth>\n"
                           % auth_port)
    d = dl.Daemon(work, port=port, config=config)
    try:
        d.start()
        tap.ok("enrollment listening on 127.0.0.1 port %d" % auth_port
               in d.log(), "enrollment service listening")

        r = run([SIM, "--enroll-port", str(auth_port), "--port", str(port),
                 "--agents", str(agents), "--events", str(events),
                 "--udp-every", str(UDP_EVERY), "--prefix", "win"])
        s = summary(r.stdout)
        ids = agent_ids(r.stdout)
        tap.equal(r.returncode, 0, "simulated agents finish without error")
        tap.equal(int(s.get("enrolled", -1)), agents,
                  "every agent enrolled over TLS")
        tap.equal(int(s.get("acks_ok", -1)), agents * 3,
                  "startup and keepalives acked")
        tap.equal(int(s.get("udp", -1)), agents * udp_per_agent,
                  "part of the events sent over UDP")
        tap.equal(len(ids), agents, "every agent got an id")
        if r.returncode != 0:
            tap.diag(r.stdout.decode("utf-8", "replace")[-2000:])

        # A key added by the tool is used without restarting the daemon.
        out = run([AGENTS_TOOL, "-d", d.data_dir, "add", "late-agent"])
        tap.equal(out.returncode, 0, "wazlab-agents adds an agent")
        late_id = out.stdout.decode().split("ID ")[1].split(",")[0]
        line = run([AGENTS_TOOL, "-d", d.data_dir, "show-key", "--line",
                    late_id]).stdout.decode().strip()
        tap.ok(d.wait_for_log("agent keys reloaded", timeout=60) is True,
               "daemon reloads client.keys after the change")
        r2 = run([SIM, "--port", str(port), "--keys-line", line,
                  "--events", "3"])
        tap.equal(r2.returncode, 0, "added agent accepted at once")

        # An unknown agent id is refused and its connection closed.
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        body = b"!999!#AES:" + b"\0" * 32
        sock.sendall(struct.pack("<I", len(body)) + body)
        tap.equal(dl.read_until_closed(sock, timeout=30), "closed",
                  "unknown agent id closes the connection")
        sock.close()

        status = d.stop()
        tap.equal(status, 0, "daemon exits cleanly")
        log = d.log()
        tap.ok("agent protocol: " in log, "agent protocol counters logged")

        rows = dl.query(d.db_path,
                        "SELECT agent_id, agent_name, COUNT(*) FROM events "
                        "WHERE CAST(message AS TEXT) LIKE 'f:[%' "
                        "GROUP BY agent_id, agent_name")
        per_agent = {name: (aid, n) for aid, name, n in rows}
        wrong = [name for name, aid in ids.items()
                 if per_agent.get(name, (None, 0)) != (aid, events)]
        tap.equal(sum(n for _, n in per_agent.values()), agents * events + 3,
                  "every Event Channel event stored")
        tap.equal(per_agent.get("late-agent", (None, 0)), (late_id, 3),
                  "added agent's events stored under its id")
        tap.ok(not wrong, "events stored under the right agent id",
               "agents with wrong or missing events: %s" % wrong[:5])
        started = dl.query(d.db_path,
                           "SELECT COUNT(*) FROM events WHERE CAST(message "
                           "AS TEXT) LIKE '%Agent started:%'")[0][0]
        tap.equal(started, agents + 1, "'Agent started' stored per agent")
        stopped = dl.query(d.db_path,
                           "SELECT COUNT(*) FROM events WHERE CAST(message "
                           "AS TEXT) LIKE '%->wazuh-remoted:ossec: Agent "
                           "stopped:%'")[0][0]
        tap.equal(stopped, agents + 1, "'Agent stopped' stored per agent")
        sample = dl.query(d.db_path,
                          "SELECT CAST(message AS TEXT) FROM events WHERE "
                          "agent_name = 'win-0' AND CAST(message AS TEXT) "
                          "LIKE 'f:%' LIMIT 1")
        tap.ok(sample and sample[0][0].startswith(
            "f:[%s] (win-0) any->EventChannel:{" % ids.get("win-0")),
            "message stored as remoted forwards it", sample)

        table = dl.query(d.db_path,
                         "SELECT COUNT(*), SUM(status = 'disconnected'), "
                         "SUM(version = 'Wazuh v4.14.7'), "
                         "SUM(os_name = 'Microsoft Windows 10 Pro') "
                         "FROM agents WHERE name LIKE 'win-%'")[0]
        tap.equal(table[0], agents, "agents table has every agent")
        tap.equal(table[1], agents, "agents marked disconnected at shutdown")
        tap.equal(table[2], agents, "agent version from the keepalive")
        tap.equal(table[3], agents, "agent OS from the keepalive")
        with open(os.path.join(d.data_dir, "client.keys")) as f:
            tap.equal(len(f.read().splitlines()), agents + 1,
                      "client.keys lists every agent")
        check_replay(tap, d, work, port, auth_port, line)
    except Exception as e:  # report, then fail the plan
        tap.ok(False, "test ran to the end", repr(e))
    finally:
        d.kill()
        dl.cleanup(work)
    tap.done()


if __name__ == "__main__":
    main()
