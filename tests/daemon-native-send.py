#!/usr/bin/env python3
"""wazlab-send --native against the real daemon: many agents enroll and
send over TCP, then send again over UDP with the keys from client.keys.
Every event is stored under the id the agent received."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonlib as dl  # noqa: E402

SEND = os.path.join(dl.BUILD_DIR, "wazlab-send")
AGENTS = 50
TCP_EVENTS = 2000  # 40 per agent
UDP_EVENTS = 250   # 5 per agent
EVENT = ('{"Message":"native %d","Event":"<Event xmlns=\'http://schemas.'
         'microsoft.com/win/2004/08/events/event\'><System><Provider '
         'Name=\'Microsoft-Windows-Security-Auditing\'/><EventID>4625'
         '</EventID><EventRecordID>%d</EventRecordID></System></Event>"}')


def run(args, timeout=300):
    return subprocess.run(args, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=timeout)


def main():
    dl.require_daemon()
    if not os.access(SEND, os.X_OK):
        dl.skip_all("wazlab-send not built")
    tap = dl.Tap()

    r = run([SEND, "--udp", os.devnull])
    tap.equal(r.returncode, 2, "--udp without --native is a usage error")
    r = run([SEND, "--native", os.devnull])
    tap.equal(r.returncode, 2, "--native without keys is a usage error")
    r = run([SEND, "--native", "--enroll", "--agents", "0", os.devnull])
    tap.equal(r.returncode, 2, "--agents 0 is a usage error")

    work = dl.scratch_dir("native-send")
    port, auth_port = dl.free_port(), dl.free_port()
    events = os.path.join(work, "events.txt")
    with open(events, "w") as f:
        for i in range(AGENTS * 2):
            f.write(EVENT % (i, i) + "\n")
    config = dl.config_xml(port, extra_remote="    <protocol>tcp,udp"
                           "</protocol>\n",
                           extra="  <auth><port>%d</port></auth>\n"
                           % auth_port)
    d = dl.Daemon(work, port=port, config=config)
    try:
        d.start()
        common = ["--port", str(port), "--agents", str(AGENTS),
                  "--name", "load", "--threads", "3"]
        r = run([SEND, "--native", "--enroll", "--enroll-port",
                 str(auth_port), "--count", str(TCP_EVENTS)] + common +
                [events])
        out = r.stdout.decode("utf-8", "replace")
        tap.equal(r.returncode, 0, "TCP agents finish")
        tap.ok("%d agents (%d enrolled, 0 failed)" % (AGENTS, AGENTS) in out,
               "every agent enrolled", out)
        tap.ok("%d events sent over TCP" % TCP_EVENTS in out,
               "every TCP event sent", out)
        # Startup, first and final keepalive: three acks per agent.
        tap.ok("%d acks" % (AGENTS * 3) in out, "acks received", out)

        keys = os.path.join(d.data_dir, "client.keys")
        r = run([SEND, "--native", "--udp", "--keys", keys, "--rate",
                 "2000", "--count", str(UDP_EVENTS)] + common + [events])
        out = r.stdout.decode("utf-8", "replace")
        tap.equal(r.returncode, 0, "UDP agents finish")
        tap.ok("%d events sent over UDP" % UDP_EVENTS in out,
               "every UDP event sent", out)

        r = run([SEND, "--native", "--keys", keys, "--name", "unknown",
                 "--port", str(port), events])
        tap.equal(r.returncode, 1, "agent missing from --keys fails")
        tap.equal(d.stop(), 0, "daemon exits cleanly")

        with open(keys) as f:
            ids = {p[1]: p[0] for p in (line.split() for line in f)}
        rows = dl.query(d.db_path,
                        "SELECT agent_name, agent_id, COUNT(*) FROM events "
                        "WHERE CAST(message AS TEXT) LIKE 'f:[%' "
                        "GROUP BY agent_name, agent_id")
        per_agent = {name: (aid, n) for name, aid, n in rows}
        expected = {"load-%d" % i: (ids.get("load-%d" % i),
                                    (TCP_EVENTS + UDP_EVENTS) // AGENTS)
                    for i in range(AGENTS)}
        tap.equal(len(ids), AGENTS, "client.keys has every agent")
        tap.equal(per_agent, expected,
                  "events stored under each agent's id")
        started = dl.query(d.db_path,
                           "SELECT COUNT(*) FROM events WHERE CAST(message "
                           "AS TEXT) LIKE '%Agent started:%'")[0][0]
        tap.equal(started, AGENTS * 2, "'Agent started' per agent and run")
    except Exception as e:  # report, then fail the plan
        tap.ok(False, "test ran to the end", repr(e))
    finally:
        d.kill()
        dl.cleanup(work)
    tap.done()


if __name__ == "__main__":
    main()
