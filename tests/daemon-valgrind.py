"""wazlabd from start to SIGTERM, with TLS connections and events, shows
no definite or indirect leak and no memory error under valgrind."""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonlib as dl  # noqa: E402

VALGRIND_ERROR = 99


def built_with_sanitizer():
    out = subprocess.run(["ldd", dl.WAZLABD], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL).stdout.decode()
    return "libasan" in out or "libubsan" in out


def main():
    dl.require_daemon()
    if shutil.which("valgrind") is None:
        dl.skip_all("valgrind not installed")
    if built_with_sanitizer():
        dl.skip_all("wazlabd built with sanitizers, which valgrind cannot run")
    tap = dl.Tap()
    work = dl.scratch_dir("valgrind")
    prefix = ["valgrind", "--quiet", "--leak-check=full",
              "--errors-for-leak-kinds=definite,indirect",
              "--error-exitcode=%d" % VALGRIND_ERROR,
              "--log-file=" + os.path.join(work, "valgrind.txt")]
    d = dl.Daemon(work, prefix=prefix)
    try:
        d.start()
        dl.send_all(d.port, [b"f:EventChannel:{\"n\":%d}" % i
                             for i in range(200)])
        dl.send_all(d.port, [b"1:app:line %d" % i for i in range(10)])
        # One rejected frame so the error path is covered too.
        s = dl.tls_connect(d.port)
        s.sendall(b"\x00\x00\x00\x00")
        dl.read_until_closed(s)
        s.close()
        d.wait_for_log("closed: ", count=2)
        status = d.stop()
        with open(os.path.join(work, "valgrind.txt")) as f:
            report = f.read()
        tap.equal(status, 0, "no leak or memory error under valgrind")
        if status != 0:
            tap.diag(report[-6000:])
        rows = dl.query(d.db_path, "SELECT count(*) FROM events")[0][0]
        tap.equal(rows, 210, "events stored under valgrind")
        if shutil.which("openssl") is None:
            tap.ok(True, "mutual TLS under valgrind # SKIP no openssl")
        else:
            run_mutual_tls(tap, work, prefix)
    finally:
        d.kill()
        dl.cleanup(work)
    tap.done()


def run_mutual_tls(tap, work, prefix):
    """Mutual TLS twice on one database, so that the agent table is read
    back, with a rejected client in the first run."""
    dl.make_ca(work, "ca")
    dl.make_ca(work, "other")
    good = dl.make_client(work, "ca", "good", "agent-good")
    bad = dl.make_client(work, "other", "bad", "agent-bad")
    port = dl.free_port()
    config = dl.config_xml(port, extra_remote="    <ssl_ca>%s</ssl_ca>\n"
                           % os.path.join(work, "ca.pem"))
    d = dl.Daemon(work, port=port, config=config, prefix=prefix,
                  data_dir=os.path.join(work, "mtls-data"), name="mtls")
    try:
        for run in (1, 2):
            d.start()
            dl.send_all(port, [b"1:app:run %d" % run], *good)
            if run == 1:
                try:
                    s = dl.tls_connect(port, *bad)
                    s.sendall(dl.frame(b"1:app:rejected"))
                    dl.read_until_closed(s)
                    s.close()
                except OSError:
                    pass  # the handshake itself may fail
            d.wait_for_log("closed: ")
            status = d.stop()
            tap.equal(status, 0, "mutual TLS run %d clean under valgrind"
                      % run)
            if status != 0:
                with open(os.path.join(work, "valgrind.txt")) as f:
                    tap.diag(f.read()[-6000:])
    finally:
        d.kill()
    rows = dl.query(d.db_path, "SELECT DISTINCT agent_id, agent_name "
                    "FROM events")
    tap.equal(rows, [("001", "agent-good")], "mutual TLS rows under valgrind")


main()
