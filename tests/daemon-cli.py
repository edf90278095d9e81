"""wazlabd's command line: -t, -T, --help, --version, daemon mode, and the
clear failure of a second daemon on the same port or database."""

import os
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonlib as dl  # noqa: E402


def run(*args, timeout=60):
    p = subprocess.run([dl.WAZLABD] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def test_info(tap):
    status, out, _ = run("--version")
    tap.ok(status == 0 and re.match(r"wazlabd \d+\.\d+", out) is not None,
           "--version prints the version", out)
    status, out, _ = run("--help")
    tap.ok(status == 0 and "-D DIR" in out and "-T" in out,
           "--help lists the options", out)
    status, _, err = run("-x")
    tap.equal(status, 2, "unknown option exits 2")
    status, out, _ = run("--options")
    tap.ok(status == 0 and "remote/port" in out and "default 1514" in out,
           "--options lists the option table", out[:500])


def test_check(tap, work):
    good = write(os.path.join(work, "good.conf"), dl.config_xml(20514))
    status, out, err = run("-t", "-c", good)
    tap.equal(status, 0, "-t accepts a good file")

    bad = write(os.path.join(work, "bad.conf"),
                "<ossec_config>\n  <remote>\n    <port>1514</port>\n"
                "    <bogus>yes</bogus>\n  </remote>\n</ossec_config>\n")
    status, out, err = run("-t", "-c", bad)
    tap.ok(status != 0, "-t rejects an unknown element")
    tap.ok("%s:4: unknown element <bogus> in <remote>" % bad in err,
           "-t names file, line and element", err)

    bad = write(os.path.join(work, "value.conf"),
                "<ossec_config>\n<remote>\n<port>99999</port>\n</remote>\n"
                "</ossec_config>\n")
    status, out, err = run("-t", "-c", bad)
    tap.ok(status != 0 and "%s:3: invalid value \"99999\" for "
           "<remote><port>" % bad in err, "-t rejects a bad value", err)

    bad = write(os.path.join(work, "ca.conf"),
                "<ossec_config>\n<remote>\n"
                "<ssl_ca>/nonexistent/ca.pem</ssl_ca>\n</remote>\n"
                "</ossec_config>\n")
    status, out, err = run("-t", "-c", bad)
    tap.ok(status != 0 and "%s:3: <remote><ssl_ca>: cannot read "
           "/nonexistent/ca.pem" % bad in err, "-t checks the CA file", err)

    status, out, err = run("-t", "-c", os.path.join(work, "missing.conf"))
    tap.ok(status != 0 and "missing.conf" in err, "-t names a missing file",
           err)


def test_print(tap, work):
    conf = write(os.path.join(work, "print.conf"), dl.config_xml(20999))
    status, out, err = run("-T", "-c", conf)
    tap.equal(status, 0, "-T exits 0")
    try:
        root = ET.fromstring(out)
        port = root.find("remote/port").text
    except (ET.ParseError, AttributeError) as e:
        port = repr(e)
    tap.equal(port, "20999", "-T prints the effective port as XML")
    status, again, err = run("-T", "-c", write(os.path.join(work, "t2.conf"),
                                                out))
    tap.equal(again, out, "-T output reads back to the same configuration")

    shipped = os.path.join(dl.SOURCE_DIR, "etc", "ossec.conf")
    _, from_file, _ = run("-T", "-c", shipped)
    _, defaults, _ = run("-T", "-c", "/dev/null")
    tap.ok(from_file == defaults and "<port>1514</port>" in defaults,
           "etc/ossec.conf equals the built-in defaults")


def test_second_daemon(tap, work):
    first = dl.Daemon(work, name="first").start()
    try:
        # Same port, another data directory.
        other = os.path.join(work, "other")
        config = os.path.join(work, "first.conf")
        status, out, err = run("-f", "-c", config, "-D", other)
        tap.ok(status != 0, "second daemon on the same port fails")
        tap.ok("address already in use (EADDRINUSE)" in err,
               "port failure names EADDRINUSE", err)

        # Same data directory (database), another port.
        config = write(os.path.join(work, "second.conf"),
                       dl.config_xml(dl.free_port()))
        status, out, err = run("-f", "-c", config, "-D", first.data_dir)
        tap.ok(status != 0, "second daemon on the same database fails")
        tap.ok("is in use by another process" in err,
               "database failure says it is in use", err)
        tap.equal(err.count("in use by another process"), 1,
                  "database failure says so once")
        tap.ok(re.search(r"pid \d+ has the lock ", err) is not None,
               "database failure names the lock holder", err)
    finally:
        tap.equal(first.stop(), 0, "first daemon still stops cleanly")


def wait_for(path, text, timeout=dl.READY_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path) as f:
                content = f.read()
            if text in content:
                return content
        time.sleep(0.05)
    return None


def test_background(tap, work):
    data = os.path.join(work, "bg-data")
    conf = write(os.path.join(work, "bg.conf"),
                 dl.config_xml(dl.free_port()))
    status, out, err = run("-c", conf, "-D", data)
    tap.equal(status, 0, "daemon mode returns 0 once ready")
    log_path = os.path.join(data, "wazlabd.log")
    content = wait_for(log_path, "INFO: ready")
    tap.ok(content is not None, "daemon mode logs to the data directory")
    pid = None
    if content:
        match = re.search(r"wazlabd\[(\d+)\] INFO: ready", content)
        pid = int(match.group(1)) if match else None
    tap.ok(pid is not None, "log lines carry the pid")
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        tap.ok(wait_for(log_path, "INFO: stopped") is not None,
               "daemon mode stops on SIGTERM")

    # A start that fails is reported by the exit status.
    first = dl.Daemon(work, name="holder").start()
    try:
        conf = write(os.path.join(work, "clash.conf"),
                     dl.config_xml(first.port))
        status, out, err = run("-c", conf, "-D", os.path.join(work, "clash"))
        tap.ok(status != 0 and "failed to start; see" in err,
               "daemon mode reports a failed start", err)
    finally:
        first.stop()


def main():
    dl.require_daemon()
    tap = dl.Tap()
    work = dl.scratch_dir("cli")
    try:
        test_info(tap)
        test_check(tap, work)
        test_print(tap, work)
        test_second_daemon(tap, work)
        test_background(tap, work)
    finally:
        dl.cleanup(work)
    tap.done()


main()
