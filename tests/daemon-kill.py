"""After kill -9 in the middle of a send the database is intact, every
stored row is whole, and a restarted daemon carries on with it."""

import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonlib as dl  # noqa: E402

EVENTS = 20000


def main():
    dl.require_daemon()
    tap = dl.Tap()
    work = dl.scratch_dir("kill")
    d = dl.Daemon(work)
    try:
        d.start()
        bodies = [b"f:EventChannel:{\"Message\":\"event %06d\",\"Event\":"
                  b"\"<Event/>\"}" % i for i in range(EVENTS)]
        sent = set(bodies)

        def sender():
            try:
                s = dl.tls_connect(d.port)
                for i in range(0, EVENTS, 50):
                    s.sendall(b"".join(dl.frame(b)
                                       for b in bodies[i:i + 50]))
                    time.sleep(0.002)
            except OSError:
                pass  # the daemon is killed under it
            finally:
                finished.set()

        finished = threading.Event()
        t = threading.Thread(target=sender)
        t.start()
        # Kill once some rows are committed and the sender is still busy.
        while not finished.is_set():
            if dl.query(d.db_path, "SELECT count(*) FROM events")[0][0]:
                break
            time.sleep(0.01)
        tap.ok(not finished.is_set(), "kill comes in the middle of a send")
        status = d.stop(signal.SIGKILL)
        t.join()
        tap.equal(status, -signal.SIGKILL, "daemon killed with SIGKILL")

        check = dl.query(d.db_path, "PRAGMA integrity_check")
        tap.equal(check, [("ok",)], "integrity_check is ok after kill -9")
        rows = dl.query(d.db_path, "SELECT message, received, agent_id, "
                        "location FROM events")
        whole = [r for r in rows if bytes(r[0]) in sent and r[1] and
                 r[2] == "000" and r[3] == "EventChannel"]
        tap.equal(len(whole), len(rows), "every stored row is whole")
        tap.diag("%d of %d events committed before the kill"
                 % (len(rows), EVENTS))

        d.start()
        more = [b"1:after:restart %d" % i for i in range(100)]
        dl.send_all(d.port, more)
        d.wait_for_log("closed: ")
        tap.equal(d.stop(), 0, "restarted daemon exits 0")
        after = dl.query(d.db_path, "SELECT count(*) FROM events")[0][0]
        tap.equal(after, len(rows) + len(more),
                  "restarted daemon adds to the same database")
        check = dl.query(d.db_path, "PRAGMA integrity_check")
        tap.equal(check, [("ok",)], "integrity_check is ok after restart")
    finally:
        d.kill()
        dl.cleanup(work)
    tap.done()


main()
