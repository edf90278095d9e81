"""End-to-end benchmark of wazlabd with Wazuh agents: the native protocol
(AES secure messages over TCP), analysis and the SQLite writer.

For each agent count: a first wazlabd run enrolls the agents with
wazlab-send --native --enroll. A second run on the same data directory
is measured: wazlab-send --native --keys sends EVENTS Event Channel
events spread over the agents (startup, keepalives and acks included),
then the daemon is stopped with SIGTERM. Reported per agent count:
events per second into committed rows (start of the send to daemon
exit), CPU seconds and peak RSS of the measured wazlabd.

Messages are the Sysmon event ID 1 payloads of $WL_SHARED_DIR/corpus
when present, else a synthetic 2 KB payload. Usage:
  python3 bench/native-e2e-bench.py [--events N] [--agents 1,100,1000]
                                    [--threads N]
"""

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

BUILD_DIR = os.environ.get("top_builddir", os.getcwd())
WAZLABD = os.path.join(BUILD_DIR, "wazlabd")
WAZLAB_SEND = os.path.join(BUILD_DIR, "wazlab-send")


def payloads():
    shared = os.environ.get("WL_SHARED_DIR", "")
    path = os.path.join(shared, "corpus", "sysmon-eid1.jsonl")
    if shared and os.path.exists(path):
        with open(path, "rb") as f:
            lines = [line.rstrip(b"\n") for line in f if line.strip()]
        return lines, "corpus/sysmon-eid1.jsonl"
    body = (b'{"Message":"","Event":"<Event><System><EventID>1</EventID>'
            b"</System><EventData><Data Name='CommandLine'>" + b"x" * 1900 +
            b'</Data></EventData></Event>"}')
    return [body], "synthetic 2 KB payload"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_log(path, text, proc, timeout=600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path, "rb") as f:
            if text in f.read().decode("utf-8", "replace"):
                return
        if proc.poll() is not None:
            sys.exit("wazlabd exited early; see " + path)
        time.sleep(0.02)
    sys.exit("timed out waiting for %r in %s" % (text, path))


class Daemon:
    def __init__(self, work, conf, name):
        self.log_path = os.path.join(work, name + ".log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [WAZLABD, "-f", "-c", conf, "-D", os.path.join(work, "data")],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_for_log(self.log_path, "INFO: ready", self.proc)

    def stop(self):
        """Stops the daemon; returns its resource usage."""
        self.proc.send_signal(signal.SIGTERM)
        _, status, usage = os.wait4(self.proc.pid, 0)
        self.proc.returncode = status
        self.log.close()
        if status != 0:
            sys.exit("wazlabd exited with status %d; see %s"
                     % (status, self.log_path))
        return usage


def send(args):
    done = subprocess.run([WAZLAB_SEND] + args, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
    if done.returncode != 0:
        sys.exit("wazlab-send failed: " + done.stdout.decode()[-2000:])
    return done.stdout.decode().strip().splitlines()[-1]


def event_rows(db):
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT count(*) FROM events WHERE "
                           "CAST(message AS TEXT) LIKE 'f:%'").fetchone()[0]
    finally:
        con.close()


def run_one(agents, events, threads, lines):
    work = tempfile.mkdtemp(prefix="wazlab-bench-native-")
    try:
        port, auth_port = free_port(), free_port()
        conf = os.path.join(work, "bench.conf")
        with open(conf, "w") as f:
            f.write("<ossec_config><global><logall>yes</logall></global>"
                    "<remote><local_ip>127.0.0.1</local_ip><port>%d</port>"
                    "</remote><auth><port>%d</port></auth>"
                    "<analysis><threads>%d</threads></analysis>"
                    "</ossec_config>\n" % (port, auth_port, threads))
        payload_path = os.path.join(work, "payloads.txt")
        with open(payload_path, "wb") as f:
            f.write(b"\n".join(lines) + b"\n")
        common = ["--native", "--port", str(port), "--agents", str(agents),
                  "--name", "bench"]

        d = Daemon(work, conf, "enroll")
        send(common + ["--enroll", "--enroll-port", str(auth_port),
                       os.devnull])
        d.stop()

        d = Daemon(work, conf, "measured")
        start = time.monotonic()
        summary = send(common + ["--keys", os.path.join(work, "data",
                                                        "client.keys"),
                                 "--count", str(events), payload_path])
        usage = d.stop()
        elapsed = time.monotonic() - start
        rows = event_rows(os.path.join(work, "data", "wazlab.db"))
        cpu = usage.ru_utime + usage.ru_stime
        return {
            "agents": agents,
            "events": events,
            "rows": rows,
            "seconds": round(elapsed, 3),
            "events_per_second": round(rows / elapsed),
            "cpu_seconds": round(cpu, 2),
            "cpu_microseconds_per_event": round(cpu / events * 1e6, 1),
            "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
            "sender": summary,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100000)
    parser.add_argument("--agents", default="1,100,1000")
    parser.add_argument("--threads", type=int, default=0,
                        help="analysis threads (0: one per processor)")
    args = parser.parse_args()
    for program in (WAZLABD, WAZLAB_SEND):
        if not os.access(program, os.X_OK):
            sys.exit(program + " not built")
    lines, source = payloads()
    counts = [int(n) for n in args.agents.split(",")]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if max(counts) + 64 > hard:
        sys.exit("open file hard limit %d is too low for %d agents; raise "
                 "it with ulimit -Hn" % (hard, max(counts)))
    results = [run_one(n, args.events, args.threads, lines) for n in counts]
    print(json.dumps({
        "payload": source,
        "mean_payload_bytes": round(sum(map(len, lines)) / len(lines)),
        "analysis_threads": args.threads or os.cpu_count(),
        "open_file_limit": [soft, hard],
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model(),
        "runs": results,
    }, indent=2))
    if any(r["rows"] != r["events"] for r in results):
        sys.exit("some events were not stored")


if __name__ == "__main__":
    main()
