"""wazlabd -t checks what would stop the daemon at startup, beyond the
configuration file: certificates, keys, CA files, the enrollment cipher
list and the ruleset. Each fault is reported with the file and line of
its setting and makes -t exit non-zero."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonlib as dl  # noqa: E402


def check(work, name, body):
    """Writes a configuration and runs wazlabd -t on it."""
    path = os.path.join(work, name + ".conf")
    with open(path, "w") as f:
        f.write("<ossec_config>\n%s</ossec_config>\n" % body)
    r = subprocess.run([dl.WAZLABD, "-t", "-c", path], cwd=work,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    return r.returncode, r.stdout.decode(), r.stderr.decode(), path


def main():
    dl.require_daemon()
    tap = dl.Tap()
    work = dl.scratch_dir("check")
    try:
        rc, out, err, path = check(work, "defaults", "")
        tap.equal(rc, 0, "defaults: -t exits 0")
        tap.ok("is valid" in out, "defaults: reported valid", out + err)

        rc, out, err, path = check(
            work, "ciphers",
            "  <auth>\n    <ciphers>NOTACIPHER</ciphers>\n  </auth>\n")
        tap.equal(rc, 1, "bad cipher list: -t exits 1")
        tap.ok(path + ":3: <auth><ciphers>: invalid OpenSSL cipher list "
               "'NOTACIPHER'" in err, "bad cipher list: file and line", err)

        not_pem = os.path.join(work, "not-a-certificate.pem")
        with open(not_pem, "w") as f:
            f.write("not a certificate\n")
        rc, out, err, path = check(
            work, "cert",
            "  <remote>\n    <ssl_cert>%s</ssl_cert>\n"
            "    <ssl_key>%s</ssl_key>\n  </remote>\n" % (not_pem, not_pem))
        tap.equal(rc, 1, "bad certificate: -t exits 1")
        tap.ok(path + ":3: <remote><ssl_cert>: cannot load certificate "
               + not_pem in err, "bad certificate: file and line", err)

        rc, out, err, path = check(
            work, "ca", "  <auth>\n    <ssl_agent_ca>%s</ssl_agent_ca>\n"
            "  </auth>\n" % not_pem)
        tap.equal(rc, 1, "bad CA file: -t exits 1")
        tap.ok("<auth><ssl_agent_ca>: cannot load CA file" in err,
               "bad CA file: reported", err)

        missing = os.path.join(work, "no-such-dir")
        rc, out, err, path = check(
            work, "nodir", "  <ruleset>\n    <rule_dir>%s</rule_dir>\n"
            "  </ruleset>\n" % missing)
        tap.equal(rc, 1, "missing rule dir: -t exits 1")
        tap.ok("cannot open rule directory %s: No such file" % missing
               in err, "missing rule dir: reason given", err)

        rules = os.path.join(work, "rules")
        os.makedirs(rules)
        with open(os.path.join(rules, "0100-test.xml"), "w") as f:
            f.write('<group name="test,">\n'
                    '  <rule id="8" level="0">\n'
                    '    <category>ossec</category>\n'
                    '    <description>good</description>\n'
                    '  </rule>\n'
                    '  <rule id="100002" level="3">\n'
                    '    <if_sid>8</if_sid>\n'
                    '    <field name="a" type="pcre2">(</field>\n'
                    '    <description>bad</description>\n'
                    '  </rule>\n'
                    '</group>\n')
        rc, out, err, path = check(
            work, "badrule", "  <ruleset>\n    <rule_dir>%s</rule_dir>\n"
            "  </ruleset>\n" % rules)
        tap.equal(rc, 1, "invalid rule: -t exits 1")
        tap.ok("0100-test.xml:8: rule 100002" in err,
               "invalid rule: file, line and id", err)
        tap.ok("1 invalid rules" in err, "invalid rule: counted", err)
        stock = os.path.join(os.environ.get("WL_SHARED_DIR", ""),
                             "wazuh-ruleset", "full", "rules")
        if os.path.isdir(stock):
            rc, out, err, path = check(
                work, "stock", "  <ruleset>\n    <rule_dir>%s</rule_dir>\n"
                "    <rule_exclude>0215-policy_rules.xml</rule_exclude>\n"
                "  </ruleset>\n" % stock)
            tap.equal(rc, 0, "stock ruleset without lists: valid")
            tap.ok("skipped for lists not configured" in err,
                   "stock ruleset: list rules reported as skipped", err)
        else:
            tap.diag("Wazuh's stock ruleset not found; its case skipped")

        key = os.path.join(work, "encrypted.key")
        cert = os.path.join(work, "encrypted.crt")
        made = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-keyout",
             key, "-out", cert, "-days", "1", "-subj", "/CN=x",
             "-passout", "pass:secret"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if made.returncode == 0:
            rc, out, err, path = check(
                work, "encrypted", "  <remote>\n    <ssl_cert>%s</ssl_cert>\n"
                "    <ssl_key>%s</ssl_key>\n  </remote>\n" % (cert, key))
            tap.equal(rc, 1, "encrypted key: -t exits 1 without a prompt")
            tap.ok("<remote><ssl_key>: cannot load private key" in err,
                   "encrypted key: reported", err)

        r = subprocess.run([dl.WAZLABD, "-f", "-c", "/dev/null", "-D", ""],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=60)
        tap.equal(r.returncode, 2, "empty -D: usage error")
        tap.ok(b"-D needs a directory name" in r.stderr,
               "empty -D: says what is missing", r.stderr.decode())
    finally:
        dl.cleanup(work)
    tap.done()


main()
