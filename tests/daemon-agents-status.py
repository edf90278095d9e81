"""The agents table follows Wazuh agents: active while they send, and
disconnected once <global><agents_disconnection_time> passes without a
message from them, even when they never sent a shutdown message."""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonlib as dl  # noqa: E402

SIM = os.path.join(dl.BUILD_DIR, "tests", "agent-sim")
AGENTS = 3


def statuses(db_path):
    return dl.query(db_path, "SELECT status, disconnection_time FROM agents "
                    "WHERE name LIKE 'quiet-%' ORDER BY id")


def wait_for(db_path, status, timeout):
    """Polls the agents table until every agent has status."""
    deadline = time.monotonic() + timeout
    rows = []
    while time.monotonic() < deadline:
        rows = statuses(db_path)
        if len(rows) == AGENTS and all(r[0] == status for r in rows):
            break
        time.sleep(0.2)
    return rows


def main():
    dl.require_daemon()
    if not os.access(SIM, os.X_OK):
        dl.skip_all("tests/agent-sim not built")
    tap = dl.Tap()
    work = dl.scratch_dir("agents-status")
    port, auth_port = dl.free_port(), dl.free_port()
    config = dl.config_xml(
        port, extra="<global><agents_disconnection_time>3s"
        "</agents_disconnection_time></global>\n"
        "<auth><port>%d</port></auth>\n" % auth_port)
    d = dl.Daemon(work, port=port, config=config)
    try:
        d.start()
        r = subprocess.run([SIM, "--enroll-port", str(auth_port), "--port",
                            str(port), "--agents", str(AGENTS), "--events",
                            "5", "--prefix", "quiet", "--no-shutdown"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=120)
        tap.equal(r.returncode, 0, "agents ran without a shutdown")
        rows = wait_for(d.db_path, "active", 30)
        tap.equal([s for s, _ in rows], ["active"] * AGENTS,
                  "agents active after sending")
        rows = wait_for(d.db_path, "disconnected", 60)
        tap.equal([s for s, _ in rows], ["disconnected"] * AGENTS,
                  "silent agents disconnected")
        tap.ok(all(t for _, t in rows), "disconnection time stored", rows)
        tap.ok("disconnected: no message for 3 s" in d.log(),
               "disconnection logged")
        tap.equal(d.stop(), 0, "daemon exits cleanly")
    finally:
        d.kill()
        dl.cleanup(work)
    tap.done()


main()
