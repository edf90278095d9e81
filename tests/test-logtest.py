#!/usr/bin/env python3
"""wazlab-logtest end to end: its --json lines against Wazuh 4.14.7's
archives output for corpus files (decoder name and the "data" text byte
for byte), and its wazuh-logtest style phases. Prints TAP."""

import os
import subprocess
import sys

BUILD = os.environ.get("top_builddir", ".")
SHARED = os.environ.get("WL_SHARED_DIR")
TOOL = os.path.join(BUILD, "wazlab-logtest")
FILES = [("windows-other-rebuilt.jsonl", None), ("sysmon-eid1.jsonl", 300),
         ("security.jsonl", 300)]

count = 0
failed = 0


def check(passed, name, diag=None):
    global count, failed
    count += 1
    print(("ok %d - %s" if passed else "not ok %d - %s") % (count, name))
    if not passed:
        failed += 1
        if diag:
            print("# " + diag.replace("\n", "\n# "))


def member_text(line, key):
    """Returns the raw JSON text of a top-level member of line."""
    start = line.find('"%s":' % key)
    if start < 0:
        return None
    i = start + len(key) + 3
    depth = 0
    in_string = False
    j = i
    while j < len(line):
        c = line[j]
        if in_string:
            if c == "\\":
                j += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "{[":
            depth += 1
        elif c in "}]":
            if depth == 0:
                return line[i:j]
            depth -= 1
            if depth == 0:
                return line[i:j + 1]
        elif c == "," and depth == 0:
            return line[i:j]
        j += 1
    return line[i:]


def run(args, text):
    return subprocess.run([TOOL] + args, input=text, capture_output=True,
                          check=False)


def check_corpus(name, limit):
    with open(os.path.join(SHARED, "corpus", name), "rb") as f:
        lines = f.read().split(b"\n")[:-1]
    with open(os.path.join(SHARED, "corpus", "expected", name), "rb") as f:
        expected = f.read().split(b"\n")[:-1]
    if limit:
        lines, expected = lines[:limit], expected[:limit]
    out = run(["--queue", "f", "--location", "EventChannel", "--agent",
               "WIN10", "--json"], b"\n".join(lines) + b"\n")
    got = out.stdout.split(b"\n")[:-1]
    check(out.returncode == 0 and len(got) == len(lines),
          "%s: one line per event" % name,
          "exit %d, %d lines for %d events" % (out.returncode, len(got),
                                               len(lines)))
    diffs = []
    for n, (mine, want) in enumerate(zip(got, expected), 1):
        mine_s = mine.decode("utf-8", "surrogateescape")
        want_s = want.decode("utf-8", "surrogateescape")
        decoder = '{"name":%s}' % member_text(want_s, "decoder")
        if (member_text(mine_s, "data") != member_text(want_s, "data") or
                member_text(mine_s, "decoder") != decoder):
            diffs.append(n)
    check(not diffs, "%s: %d events match Wazuh" % (name, len(got)),
          "lines differing: %s" % diffs[:10])


def check_phases():
    event = ("{\"Event\":\"<Event><System><EventID>4624</EventID></System>"
             "</Event>\"}\n")
    out = run(["-q", "f", "-l", "EventChannel"], event.encode())
    text = out.stdout.decode()
    check("**Phase 1: Completed pre-decoding." in text, "phase 1 printed")
    check("\tname: 'windows_eventchannel'" in text, "decoder name printed")
    check("\twin.system.eventID: '4624'" in text, "field printed", text)

    out = run(["--json"], b'{"user":"bob","n":1}\n')
    text = out.stdout.decode()
    check('"decoder":{"name":"json"}' in text and
          '"data":{"dstuser":"bob","n":"1"}' in text,
          "JSON log as an archives line", text)

    out = run(["-q", "f", "--json"], b"{not json\n")
    check(b'"dropped":true' in out.stdout, "dropped event reported",
          out.stdout.decode())

    out = run(["--queue", "ff"], b"")
    check(out.returncode == 2, "invalid queue rejected")


def main():
    if not SHARED or not os.path.isdir(os.path.join(SHARED, "corpus")):
        print("1..0 # SKIP WL_SHARED_DIR is not set")
        return 0
    for name, limit in FILES:
        check_corpus(name, limit)
    check_phases()
    print("1..%d" % count)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
