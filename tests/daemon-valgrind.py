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
    finally:
        d.kill()
        dl.cleanup(work)
    tap.done()


main()
