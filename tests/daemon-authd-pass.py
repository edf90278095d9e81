#!/usr/bin/env python3
"""<auth><use_password>yes</use_password> without authd.pass: wazlabd
generates a password, saves it to <data dir>/authd.pass with mode 0600
and never logs it. An agent with that password enrolls, one without is
rejected, and a restart reuses the saved password."""

import os
import re
import ssl
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonlib as dl  # noqa: E402


def enroll(port, name, password=None):
    """Sends one enrollment request; returns the reply text."""
    request = b"OSSEC A:'%s' V:'v4.14.7'\n" % name.encode()
    if password is not None:
        request = b"OSSEC PASS: %s " % password.encode() + request
    try:
        reply = dl.enroll_request(port, request)
    except (OSError, ssl.SSLError) as e:
        return "connection failed: %s" % e
    return reply.decode("utf-8", "replace")


def main():
    dl.require_daemon()
    tap = dl.Tap()
    work = dl.scratch_dir("authd-pass")
    port, auth_port = dl.free_port(), dl.free_port()
    config = dl.config_xml(
        port, extra="  <auth><port>%d</port><use_password>yes"
        "</use_password></auth>\n" % auth_port)
    d = dl.Daemon(work, port=port, config=config)
    d2 = None
    try:
        d.start()
        path = os.path.join(d.data_dir, "authd.pass")
        tap.ok(os.path.exists(path), "authd.pass created")
        mode = stat.S_IMODE(os.stat(path).st_mode) if os.path.exists(path) \
            else None
        tap.equal(mode, 0o600, "authd.pass has mode 0600")
        with open(path) as f:
            password = f.read().rstrip("\n")
        tap.ok(re.fullmatch(r"[0-9a-f]{32}", password) is not None,
               "password is 32 hex digits")
        tap.ok(password not in d.log(), "password not in the log")
        tap.ok(path in d.log(), "log names the password file")

        reply = enroll(auth_port, "with-pass", password)
        tap.ok(reply.startswith("OSSEC K:'"), "agent with the password "
               "enrolls", reply)
        reply = enroll(auth_port, "without-pass")
        tap.ok("Invalid password" in reply, "agent without it rejected",
               reply)
        tap.equal(d.stop(), 0, "daemon exits cleanly")

        d2 = dl.Daemon(work, port=port, config=config, data_dir=d.data_dir,
                       name="restart")
        d2.start()
        with open(path) as f:
            tap.equal(f.read().rstrip("\n"), password,
                      "restart keeps authd.pass")
        reply = enroll(auth_port, "after-restart", password)
        tap.ok(reply.startswith("OSSEC K:'"), "saved password accepted "
               "after restart", reply)
        tap.ok(password not in d2.log(), "restart does not log it")
        tap.equal(d2.stop(), 0, "restarted daemon exits cleanly")
    except Exception as e:  # report, then fail the plan
        tap.ok(False, "test ran to the end", repr(e))
    finally:
        d.kill()
        if d2 is not None:
            d2.kill()
        dl.cleanup(work)
    tap.done()


if __name__ == "__main__":
    main()
