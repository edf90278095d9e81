#!/usr/bin/env python3
"""Agent ids come from one allocator: agents enrolled on the enrollment
port and agents named by their certificate on the TLS event stream never
get the same id, also after client.keys is lost and the database still
lists agents."""

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonlib as dl  # noqa: E402

SEND = os.path.join(dl.BUILD_DIR, "wazlab-send")


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_client(work, cn):
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", cn + ".key", "-out", cn + ".csr",
            "-subj", "/CN=" + cn, cwd=work)
    openssl("x509", "-req", "-in", cn + ".csr", "-CA", "ca.pem", "-CAkey",
            "ca.key", "-CAcreateserial", "-out", cn + ".pem", "-days", "2",
            cwd=work)
    return os.path.join(work, cn + ".pem"), os.path.join(work, cn + ".key")


def make_certs(work):
    """Makes a CA and client certificates named cert-agent and first-0."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
            "-out", "ca.pem", "-subj", "/CN=ca", "-days", "2", cwd=work)
    return make_client(work, "cert-agent"), make_client(work, "first-0")


def enroll(port, auth_port, name):
    """Enrolls one agent with wazlab-send; returns the exit status."""
    r = subprocess.run([SEND, "--native", "--enroll", "--port", str(port),
                        "--enroll-port", str(auth_port), "--name", name,
                        os.devnull],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=120)
    return r.returncode


def keys_ids(data_dir):
    with open(os.path.join(data_dir, "client.keys")) as f:
        return {p[0]: p[1] for p in (line.split() for line in f) if p}


def main():
    dl.require_daemon()
    if shutil.which("openssl") is None:
        dl.skip_all("openssl command not found")
    if not os.access(SEND, os.X_OK):
        dl.skip_all("wazlab-send not built")
    tap = dl.Tap()
    work = dl.scratch_dir("agent-ids")
    d = None
    try:
        cert, same_name = make_certs(work)
        port, auth_port = dl.free_port(), dl.free_port()
        config = dl.config_xml(
            port,
            extra_remote="    <ssl_ca>%s</ssl_ca>\n"
                         % os.path.join(work, "ca.pem"),
            extra="  <auth><port>%d</port></auth>\n" % auth_port)
        d = dl.Daemon(work, port=port, config=config).start()
        tap.equal(enroll(port, auth_port, "first"), 0, "first agent enrolls")
        tap.equal(enroll(port, auth_port, "second"), 0,
                  "second agent enrolls")
        dl.send_all(port, [b"1:app:from the certificate agent"], *cert)
        d.wait_for_log("new agent cert-agent with id")
        m = re.search(r"new agent cert-agent with id (\d+)", d.log())
        cert_id = m.group(1) if m else None
        # A certificate naming an enrolled agent gets that agent's id.
        dl.send_all(port, [b"1:app:from first-0 over TLS"], *same_name)
        d.wait_for_log("new agent first-0 with id")
        tap.ok("new agent first-0 with id 001" in d.log(),
               "certificate of an enrolled name shares its id")
        tap.equal(enroll(port, auth_port, "third"), 0, "third agent enrolls")
        tap.equal(d.stop(), 0, "daemon exits cleanly")

        ids = keys_ids(d.data_dir)
        tap.equal(ids.get(cert_id), "!cert-agent",
                  "certificate agent's id reserved in client.keys")
        tap.equal(sorted(ids), ["001", "002", "003", "004"],
                  "four distinct ids handed out")
        rows = dl.query(d.db_path, "SELECT id, name FROM agents ORDER BY id")
        tap.equal(len({r[0] for r in rows}), len(rows),
                  "agents table has no duplicate id")
        tap.equal(dict(rows).get(cert_id), "cert-agent",
                  "certificate agent stored under its id")

        # client.keys lost: the database still names ids up to 004.
        os.remove(os.path.join(d.data_dir, "client.keys"))
        d = dl.Daemon(work, port=port, config=config, data_dir=d.data_dir,
                      name="second-run").start()
        tap.ok("agent ids up to 004 reserved" in d.log(),
               "ids of the database reserved at start", d.log())
        tap.equal(enroll(port, auth_port, "fourth"), 0,
                  "fourth agent enrolls")
        tap.equal(d.stop(), 0, "second daemon exits cleanly")
        ids = keys_ids(d.data_dir)
        tap.equal(ids.get("005"), "fourth-0", "new enrollment gets id 005")
    except Exception as e:  # report, then fail the plan
        tap.ok(False, "test ran to the end", repr(e))
    finally:
        if d is not None:
            d.kill()
        dl.cleanup(work)
    tap.done()


if __name__ == "__main__":
    main()
