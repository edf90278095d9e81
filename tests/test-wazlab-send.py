#!/usr/bin/env python3
"""Tests of wazlab-send against a TLS server on 127.0.0.1 run by this test.

The server reads 4-byte little-endian length frames from each connection
until the client closes it, so every frame can be checked byte for byte.
"""
import os
import re
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading

TIMEOUT = 60
checks = 0
failures = 0


def ok(condition, name, diagnostic=None):
    global checks, failures
    checks += 1
    if condition:
        print(f"ok {checks} - {name}")
    else:
        failures += 1
        print(f"not ok {checks} - {name}")
        if diagnostic is not None:
            for line in str(diagnostic).splitlines() or [""]:
                print(f"# {line}")
    sys.stdout.flush()


def shorten(value, limit=300):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def is_equal(got, expected, name):
    ok(got == expected, name,
       f"got {shorten(got)}\nexpected {shorten(expected)}")


def skip_all(reason):
    print(f"1..0 # SKIP {reason}")
    sys.exit(0)


def make_cert(directory, name):
    """Creates a self-signed certificate for 127.0.0.1; returns (cert, key)."""
    cert = os.path.join(directory, name + ".pem")
    key = os.path.join(directory, name + ".key")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec",
         "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", key, "-out", cert, "-days", "1",
         "-subj", "/CN=" + name,
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=TIMEOUT)
    return cert, key


def read_exact(conn, size):
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return None if not data else data
        data += chunk
    return data


class FrameServer:
    """TLS server on 127.0.0.1, port chosen by the OS, that stores frames."""

    def __init__(self, cert, key, client_ca=None):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        if client_ca:
            self.context.verify_mode = ssl.CERT_REQUIRED
            self.context.load_verify_locations(client_ca)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.connections = []  # one list of frames per connection
        self.errors = []
        self.lock = threading.Lock()
        self.stopping = False
        self.threads = []
        self.acceptor = threading.Thread(target=self.accept_loop)
        self.acceptor.start()

    def accept_loop(self):
        while not self.stopping:
            try:
                sock, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            frames = []
            with self.lock:
                self.connections.append(frames)
            thread = threading.Thread(target=self.serve, args=(sock, frames))
            thread.start()
            self.threads.append(thread)

    def serve(self, sock, frames):
        sock.settimeout(TIMEOUT)
        try:
            conn = self.context.wrap_socket(sock, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.errors.append(f"handshake: {e}")
            sock.close()
            return
        try:
            while True:
                header = read_exact(conn, 4)
                if header is None:
                    break
                if len(header) < 4:
                    self.errors.append("partial frame header")
                    break
                (length,) = struct.unpack("<I", header)
                body = read_exact(conn, length)
                if body is None or len(body) < length:
                    self.errors.append(f"partial frame of {length} bytes")
                    break
                frames.append(body)
            # Reply to the client's close_notify, as the daemon does.
            conn.unwrap()
        except (ssl.SSLError, OSError) as e:
            self.errors.append(f"read: {e}")
        finally:
            conn.close()

    def all_frames(self):
        with self.lock:
            return [f for frames in self.connections for f in frames]

    def stop(self):
        self.stopping = True
        self.acceptor.join()
        self.listener.close()
        for thread in self.threads:
            thread.join(TIMEOUT)


def run_send(args, stdin=None):
    program = os.path.join(os.environ.get("top_builddir", "."),
                           "wazlab-send")
    return subprocess.run([program] + args, input=stdin,
                          capture_output=True, timeout=TIMEOUT)


def write_lines(directory, name, lines):
    path = os.path.join(directory, name)
    with open(path, "wb") as f:
        for line in lines:
            f.write(line + b"\n")
    return path


SUMMARY = re.compile(
    rb"^sent (\d+) events, (\d+) bytes, (\d+\.\d{3}) s, (\d+\.\d) events/s, "
    rb"(\d+) skipped \(longer than 65536 bytes\)\n$")

PAYLOADS = [
    b'{"Message":"one","Event":"<Event><System><EventID>1</EventID>'
    b'</System></Event>"}',
    b'{"Message":"two: with colons | and bars","Event":"<Event/>"}',
    b'{"Message":"three \\u00e9","Event":"<Event/>"}',
]


def test_payload_frames(tmp, cert, key):
    server = FrameServer(cert, key)
    path = write_lines(tmp, "payloads.json", PAYLOADS)
    result = run_send(["--port", str(server.port), "--ca", cert, path])
    server.stop()
    is_equal(result.returncode, 0, "payload run exits 0")
    is_equal(server.all_frames(),
             [b"f:EventChannel:" + p for p in PAYLOADS],
             "payload frames byte for byte")
    is_equal(len(server.connections), 1, "one connection by default")
    ok(not server.errors, "server saw whole frames", server.errors)
    match = SUMMARY.match(result.stdout)
    ok(match is not None, "summary line format", result.stdout)
    if match:
        is_equal(int(match.group(1)), 3, "summary counts sent events")
        expected_bytes = sum(4 + len(b"f:EventChannel:") + len(p)
                             for p in PAYLOADS)
        is_equal(int(match.group(2)), expected_bytes,
                 "summary counts frame bytes")
        is_equal(int(match.group(5)), 0, "summary counts no skips")
    ok(b"warning" not in result.stderr, "no warning with --ca",
       result.stderr)


def test_lab_mode(tmp, cert, key):
    server = FrameServer(cert, key)
    result = run_send(["--port", str(server.port), "--ca", cert,
                       "--verify-host", "--agent", "WIN10",
                       "--agent-id", "007"], stdin=PAYLOADS[0] + b"\n")
    server.stop()
    is_equal(result.returncode, 0, "lab mode exits 0")
    is_equal(server.all_frames(),
             [b"f:[007] (WIN10) any->EventChannel:" + PAYLOADS[0]],
             "lab mode location as remoted forwards it")


def test_plain_lines(tmp, cert, key):
    server = FrameServer(cert, key)
    lines = b"Dec  4 16:35:30 host sshd[1]: Accepted\r\n\nsecond line\n"
    result = run_send(["--port", str(server.port), "--queue", "1",
                       "--location", "C:\\logs|app.log"], stdin=lines)
    server.stop()
    is_equal(result.returncode, 0, "plain lines exit 0")
    is_equal(server.all_frames(),
             [b"1:C|:\\logs||app.log:Dec  4 16:35:30 host sshd[1]: Accepted",
              b"1:C|:\\logs||app.log:second line"],
             "queue, escaped location, CRLF and empty lines")
    ok(b"warning: no --ca given" in result.stderr,
       "warning without --ca", result.stderr)


def test_count_loops(tmp, cert, key):
    path = write_lines(tmp, "three.json", PAYLOADS)
    expected = [b"f:EventChannel:" + PAYLOADS[i % 3] for i in range(7)]
    for name, args, stdin in (("file", [path], None),
                              ("stdin", [], b"\n".join(PAYLOADS) + b"\n")):
        server = FrameServer(cert, key)
        result = run_send(["--port", str(server.port), "--count", "7"]
                          + args, stdin=stdin)
        server.stop()
        is_equal(result.returncode, 0, f"--count from {name} exits 0")
        is_equal(server.all_frames(), expected,
                 f"--count 7 loops over 3 lines from {name}")
    server = FrameServer(cert, key)
    result = run_send(["--port", str(server.port), "--count", "2", path])
    server.stop()
    is_equal(server.all_frames(), expected[:2],
             "--count below the line count stops early")


def test_oversized(tmp, cert, key):
    prefix_len = len(b"f:EventChannel:")
    fits = b"a" * (65536 - prefix_len)
    too_long = b"b" * (65536 - prefix_len + 1)
    path = write_lines(tmp, "long.txt", [b"first", too_long, fits, b"last"])
    server = FrameServer(cert, key)
    result = run_send(["--port", str(server.port), path])
    server.stop()
    is_equal(result.returncode, 0, "oversized line run exits 0")
    is_equal(server.all_frames(),
             [b"f:EventChannel:first", b"f:EventChannel:" + fits,
              b"f:EventChannel:last"],
             "oversized line skipped, 65536-byte message sent")
    ok(b"line 2: message of 65537 bytes" in result.stderr,
       "oversized line reported with its number", result.stderr)
    match = SUMMARY.match(result.stdout)
    ok(match is not None and match.group(5) == b"1",
       "summary counts the skipped line", result.stdout)

    server = FrameServer(cert, key)
    result = run_send(["--port", str(server.port), "--count", "6", path])
    server.stop()
    is_equal(len(server.all_frames()), 6, "--count skips long lines")
    is_equal(result.stderr.count(b"message of 65537 bytes"), 1,
             "long line reported on the first pass only")
    match = SUMMARY.match(result.stdout)
    ok(match is not None and match.group(5) == b"2",
       "long line counted on each pass", result.stdout)


def test_connections(tmp, cert, key):
    lines = [b"line %d" % i for i in range(10)]
    path = write_lines(tmp, "ten.txt", lines)
    server = FrameServer(cert, key)
    result = run_send(["--port", str(server.port), "--connections", "3",
                       "--rate", "1000", path])
    server.stop()
    is_equal(result.returncode, 0, "three connections exit 0")
    is_equal(len(server.connections), 3, "three connections opened")
    is_equal(sorted(server.all_frames()),
             sorted(b"f:EventChannel:" + l for l in lines),
             "every line sent once over three connections")


def test_mutual_tls(tmp, cert, key, client_cert, client_key):
    server = FrameServer(cert, key, client_ca=client_cert)
    result = run_send(["--port", str(server.port), "--ca", cert,
                       "--cert", client_cert, "--key", client_key],
                      stdin=b"x\n")
    server.stop()
    is_equal(result.returncode, 0, "client certificate accepted")
    is_equal(server.all_frames(), [b"f:EventChannel:x"],
             "frame sent over mutual TLS")


def test_failures(tmp, cert, key, other_cert):
    server = FrameServer(cert, key)
    result = run_send(["--port", str(server.port), "--ca", other_cert],
                      stdin=b"x\n")
    server.stop()
    is_equal(result.returncode, 1, "untrusted server certificate exits 1")
    ok(b"TLS handshake" in result.stderr and
       b"certificate" in result.stderr,
       "handshake failure explained", result.stderr)
    is_equal(server.all_frames(), [], "nothing sent to untrusted server")

    server = FrameServer(cert, key)
    result = run_send(["--host", "localhost", "--port", str(server.port),
                       "--ca", cert, "--verify-host"], stdin=b"x\n")
    server.stop()
    is_equal(result.returncode, 1, "--verify-host rejects another name")
    ok(b"hostname mismatch" in result.stderr, "name mismatch explained",
       result.stderr)

    # A port that was just free: nothing listens there.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    result = run_send(["--port", str(port)], stdin=b"x\n")
    is_equal(result.returncode, 1, "refused connection exits 1")
    ok(b"cannot connect to 127.0.0.1 port" in result.stderr,
       "refused connection explained", result.stderr)

    for args in (["--bogus"], ["--rate", "fast"], ["--count", "-1"],
                 ["--queue", "ab"], ["--agent-id", "001"],
                 ["--cert", cert], ["--connections", "0"], ["a", "b"]):
        result = run_send(["--port", "1"] + args, stdin=b"")
        is_equal(result.returncode, 2, f"{' '.join(args)} exits 2")
        ok(b"Usage: wazlab-send" in result.stderr,
           f"{' '.join(args)} prints usage", result.stderr)


def main():
    if shutil.which("openssl") is None:
        skip_all("openssl command not found")
    with tempfile.TemporaryDirectory(prefix="test-wazlab-send-") as tmp:
        cert, key = make_cert(tmp, "server")
        client_cert, client_key = make_cert(tmp, "client")
        other_cert, _ = make_cert(tmp, "other")
        test_payload_frames(tmp, cert, key)
        test_lab_mode(tmp, cert, key)
        test_plain_lines(tmp, cert, key)
        test_count_loops(tmp, cert, key)
        test_oversized(tmp, cert, key)
        test_connections(tmp, cert, key)
        test_mutual_tls(tmp, cert, key, client_cert, client_key)
        test_failures(tmp, cert, key, other_cert)
    print(f"1..{checks}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
