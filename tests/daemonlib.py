"""Helpers for black-box tests of wazlabd on 127.0.0.1.

Each test starts the real daemon in the foreground with a scratch data
directory, talks to it over TLS with Python's ssl module, stops it with a
signal and reads the SQLite database. Output is TAP.
"""

import os
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
SOURCE_DIR = os.environ.get("top_srcdir", BUILD_DIR)
WAZLABD = os.path.join(BUILD_DIR, "wazlabd")

# Generous limits for a loaded 2-core machine; nothing is timed.
READY_TIMEOUT = 120.0
EXIT_TIMEOUT = 300.0


class Tap:
    """Numbers checks and prints TAP lines."""

    def __init__(self):
        self.count = 0
        self.failed = 0

    def ok(self, condition, name, diagnostic=None):
        self.count += 1
        print("%sok %d - %s" % ("" if condition else "not ", self.count,
                                name), flush=True)
        if not condition:
            self.failed += 1
            if diagnostic is not None:
                for line in str(diagnostic).splitlines():
                    print("# " + line, flush=True)
        return condition

    def equal(self, got, expected, name):
        return self.ok(got == expected, name,
                       "got %r, expected %r" % (got, expected))

    def diag(self, text):
        for line in str(text).splitlines():
            print("# " + line, flush=True)

    def done(self):
        print("1..%d" % self.count, flush=True)
        sys.exit(1 if self.failed else 0)


def skip_all(reason):
    print("1..0 # SKIP " + reason, flush=True)
    sys.exit(0)


def free_port():
    """Returns a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def frame(body):
    """Returns body with its 4-byte little-endian length prefix."""
    return struct.pack("<I", len(body)) + body


def config_xml(port, logall=True, extra_remote="", extra=""):
    return ("<ossec_config>\n"
            "  <global><logall>%s</logall></global>\n"
            "  <remote>\n"
            "    <local_ip>127.0.0.1</local_ip>\n"
            "    <port>%d</port>\n%s"
            "  </remote>\n%s"
            "</ossec_config>\n" % ("yes" if logall else "no", port,
                                   extra_remote, extra))


class Daemon:
    """One wazlabd process in the foreground, its log in a file."""

    def __init__(self, workdir, port=None, config=None, data_dir=None,
                 prefix=None, name="wazlabd", debug=True):
        self.workdir = workdir
        self.port = port or free_port()
        self.data_dir = data_dir or os.path.join(workdir, "data")
        self.config_path = os.path.join(workdir, name + ".conf")
        self.log_path = os.path.join(workdir, name + ".log")
        with open(self.config_path, "w") as f:
            f.write(config if config is not None else config_xml(self.port))
        self.prefix = prefix or []
        # Debug logging writes every connection's lines, which tests wait
        # for; at the default level they are rate-limited.
        self.debug = debug
        self.proc = None
        self.log_offset = 0

    @property
    def db_path(self):
        return os.path.join(self.data_dir, "wazlab.db")

    def start(self, wait=True):
        self.log_file = open(self.log_path, "ab")
        self.log_offset = self.log_file.tell()
        self.proc = subprocess.Popen(
            self.prefix + [WAZLABD, "-f"] + (["-d"] if self.debug else [])
            + ["-c", self.config_path, "-D", self.data_dir],
            stdout=self.log_file, stderr=subprocess.STDOUT)
        if wait:
            self.wait_for_log("INFO: ready")
        return self

    def log(self):
        with open(self.log_path, "rb") as f:
            f.seek(self.log_offset)
            return f.read().decode("utf-8", "replace")

    def wait_for_log(self, text, count=1, timeout=READY_TIMEOUT):
        """Waits until text appears count times in this run's log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log().count(text) >= count:
                return True
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError("wazlabd exited with %d before %r:\n%s"
                                   % (self.proc.returncode, text, self.log()))
            time.sleep(0.05)
        raise RuntimeError("timed out waiting for %r:\n%s" % (text,
                                                               self.log()))

    def stop(self, sig=signal.SIGTERM):
        """Sends sig and returns the exit status."""
        self.proc.send_signal(sig)
        try:
            status = self.proc.wait(timeout=EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            status = self.proc.wait()
        self.log_file.close()
        return status

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc is not None:
            self.log_file.close()


def client_context(cert=None, key=None):
    """A TLS client context; the lab server's certificate is not checked."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if cert is not None:
        ctx.load_cert_chain(cert, key)
    return ctx


def tls_connect(port, cert=None, key=None, timeout=60.0):
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return client_context(cert, key).wrap_socket(sock)


def send_all(port, bodies, cert=None, key=None, batch=64, pause=0.0):
    """Sends bodies over one TLS connection and closes it cleanly,
    sleeping pause seconds after each batch of frames."""
    s = tls_connect(port, cert, key)
    try:
        for i in range(0, len(bodies), batch):
            s.sendall(b"".join(frame(b) for b in bodies[i:i + batch]))
            if pause:
                time.sleep(pause)
        try:
            s.unwrap()
        except (ssl.SSLError, OSError):
            pass
    finally:
        s.close()


def read_until_closed(sock, timeout=60.0):
    """Reads until the peer closes; returns the reason the read ended."""
    sock.settimeout(timeout)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return "closed"
    except ssl.SSLError as e:
        return "tls error: %s" % e
    except ConnectionResetError:
        return "reset"
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return "error: %s" % e


def enroll_request(port, request):
    """Sends one enrollment request line over TLS to 127.0.0.1:port and
    returns the reply bytes. Raises OSError or ssl.SSLError when the
    connection fails."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    with client_context().wrap_socket(sock) as s:
        s.sendall(request)
        reply = b""
        while True:
            data = s.recv(4096)
            if not data:
                return reply
            reply += data


def query(db_path, sql, args=()):
    con = sqlite3.connect(db_path, timeout=60)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def scratch_dir(name):
    """A fresh directory in the build tree's tests/tmp, removed by cleanup."""
    base = os.path.join(BUILD_DIR, "tests", "tmp")
    os.makedirs(base, exist_ok=True)
    return tempfile.mkdtemp(prefix=name + "-", dir=base)


def cleanup(path):
    shutil.rmtree(path, ignore_errors=True)


def require_daemon():
    if not os.access(WAZLABD, os.X_OK):
        skip_all("wazlabd not built at " + WAZLABD)


def openssl(*args, cwd):
    """Runs the openssl command in cwd; raises when it fails."""
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_ca(work, name):
    """Creates a self-signed CA name.pem and name.key in work."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", name + ".key",
            "-out", name + ".pem", "-subj", "/CN=" + name, "-days", "2",
            cwd=work)


def make_client(work, ca, name, cn):
    """Creates a client certificate with common name cn signed by ca;
    returns the paths of the certificate and the key."""
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
            "-subj", "/CN=" + cn, cwd=work)
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem",
            "-CAkey", ca + ".key", "-CAcreateserial", "-out", name + ".pem",
            "-days", "2", cwd=work)
    return (os.path.join(work, name + ".pem"),
            os.path.join(work, name + ".key"))
