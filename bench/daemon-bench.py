"""Benchmark of wazlabd's receive path: TLS, framing, the analysis queue,
the pass-through analysis stage and the SQLite writer.

Starts wazlabd on 127.0.0.1 with logall on and a fresh data directory,
sends EVENTS Event Channel messages over SENDERS TLS connections (with
wazlab-send when it is built, else from Python processes), stops the
daemon with SIGTERM once every connection is read, and reports events
per second into committed rows (first byte sent to daemon exit), CPU
seconds of wazlabd per event, and wazlabd's peak RSS.

Messages are the Sysmon event ID 1 payloads of the corpus under
$WL_SHARED_DIR/corpus (about 2 KB each) when it is present, else a
synthetic 2 KB payload. Usage:
  python3 bench/daemon-bench.py [--events N] [--senders N] [--threads N]
                                [--sender auto|python|wazlab-send]
"""

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import signal
import socket
import sqlite3
import ssl
import struct
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


def framed_stream(lines, count, start):
    """Returns count frames, cycling through lines, as one bytes object."""
    parts = []
    for i in range(start, start + count):
        body = b"f:EventChannel:" + lines[i % len(lines)]
        parts.append(struct.pack("<I", len(body)) + body)
    return b"".join(parts)


def sender(port, data, ready, go):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)))
    ready.set()
    go.wait()
    view = memoryview(data)
    for i in range(0, len(data), 256 * 1024):
        s.sendall(view[i:i + 256 * 1024])
    try:
        s.unwrap()
    except (ssl.SSLError, OSError):
        pass
    s.close()


def send_with_python(port, lines, per_sender, senders):
    """Sends from Python processes; returns the start time."""
    streams = [framed_stream(lines, per_sender, i * per_sender)
               for i in range(senders)]
    go = multiprocessing.Event()
    readies = [multiprocessing.Event() for _ in streams]
    procs = [multiprocessing.Process(target=sender,
                                     args=(port, streams[i], readies[i], go))
             for i in range(senders)]
    for p in procs:
        p.start()
    for r in readies:
        r.wait()
    start = time.monotonic()
    go.set()
    for p in procs:
        p.join()
    return start


def send_with_wazlab_send(work, port, lines, total, senders):
    """Sends with one wazlab-send over several connections; returns the
    start time."""
    path = os.path.join(work, "payloads.txt")
    with open(path, "wb") as f:
        f.write(b"\n".join(lines) + b"\n")
    start = time.monotonic()
    done = subprocess.run([WAZLAB_SEND, "--port", str(port), "--count",
                           str(total), "--connections", str(senders), path],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        sys.exit("wazlab-send failed: " + done.stdout.decode())
    return start


def wait_for_log(path, text, count, proc, timeout=600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path, "rb") as f:
            if f.read().decode("utf-8", "replace").count(text) >= count:
                return
        if proc.poll() is not None:
            sys.exit("wazlabd exited early; see " + path)
        time.sleep(0.02)
    sys.exit("timed out waiting for %r in %s" % (text, path))


def thread_cpu(pid):
    """Returns CPU seconds so far of the loop thread (the main thread),
    the analysis threads and the other threads (the database writer)."""
    tick = os.sysconf("SC_CLK_TCK")
    split = {"loop": 0.0, "analysis": 0.0, "writer_and_other": 0.0}
    task_dir = "/proc/%d/task" % pid
    for tid in os.listdir(task_dir):
        try:
            with open(os.path.join(task_dir, tid, "comm")) as f:
                name = f.read().strip()
            with open(os.path.join(task_dir, tid, "stat")) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds = (int(fields[11]) + int(fields[12])) / tick
        if int(tid) == pid:
            split["loop"] += seconds
        elif name.startswith("wazlabd-analys"):
            split["analysis"] += seconds
        else:
            split["writer_and_other"] += seconds
    return {k: round(v, 2) for k, v in split.items()}


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
    parser.add_argument("--events", type=int, default=200000)
    parser.add_argument("--senders", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0,
                        help="analysis threads (0: one per processor)")
    parser.add_argument("--extra-config", default="",
                        help="XML added inside <ossec_config>")
    parser.add_argument("--sender", choices=["auto", "python",
                                             "wazlab-send"],
                        default="auto",
                        help="client program (auto: wazlab-send if built)")
    args = parser.parse_args()
    use_wazlab_send = args.sender == "wazlab-send" or (
        args.sender == "auto" and os.access(WAZLAB_SEND, os.X_OK))
    if not os.access(WAZLABD, os.X_OK):
        sys.exit("wazlabd not built at " + WAZLABD)

    lines, source = payloads()
    work = tempfile.mkdtemp(prefix="wazlab-bench-")
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        conf = os.path.join(work, "bench.conf")
        with open(conf, "w") as f:
            f.write("<ossec_config><global><logall>yes</logall></global>"
                    "<remote><local_ip>127.0.0.1</local_ip><port>%d</port>"
                    "</remote><analysis><threads>%d</threads></analysis>"
                    "%s</ossec_config>\n"
                    % (port, args.threads, args.extra_config))
        log_path = os.path.join(work, "wazlabd.log")
        # The daemon starts before the streams are built: a child forked
        # from a large Python process would count its pages in ru_maxrss.
        log = open(log_path, "wb")
        proc = subprocess.Popen([WAZLABD, "-f", "-c", conf, "-D",
                                 os.path.join(work, "data")],
                                stdout=log, stderr=subprocess.STDOUT)
        wait_for_log(log_path, "INFO: ready", 1, proc)

        per_sender = args.events // args.senders
        total = per_sender * args.senders
        message_bytes = sum(len(b"f:EventChannel:" + lines[i % len(lines)])
                            for i in range(total))
        if use_wazlab_send:
            start = send_with_wazlab_send(work, port, lines, total,
                                          args.senders)
        else:
            start = send_with_python(port, lines, per_sender, args.senders)
        wait_for_log(log_path, "closed: ", args.senders, proc)
        threads = thread_cpu(proc.pid)
        proc.send_signal(signal.SIGTERM)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.monotonic() - start
        proc.returncode = status
        log.close()
        if status != 0:
            sys.exit("wazlabd exited with status %d; see %s" % (status,
                                                                 log_path))

        con = sqlite3.connect(os.path.join(work, "data", "wazlab.db"))
        rows = con.execute("SELECT count(*) FROM events").fetchone()[0]
        con.close()
        cpu = usage.ru_utime + usage.ru_stime
        result = {
            "events": total,
            "rows": rows,
            "payload": source,
            "mean_message_bytes": round(message_bytes / total),
            "senders": args.senders,
            "sender_program": "wazlab-send" if use_wazlab_send else "python",
            "analysis_threads": args.threads or os.cpu_count(),
            "seconds": round(elapsed, 3),
            "events_per_second": round(rows / elapsed),
            "cpu_seconds": round(cpu, 3),
            "cpu_microseconds_per_event": round(cpu / total * 1e6, 2),
            "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
            "cpu_seconds_by_thread": threads,
            "nproc": os.cpu_count(),
            "cpu_model": cpu_model(),
        }
        print(json.dumps(result, indent=2))
        if rows != total:
            sys.exit("stored %d rows of %d events" % (rows, total))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
