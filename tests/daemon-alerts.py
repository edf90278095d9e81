"""The main job end to end: real Sysmon process-creation events sent over
TLS become alert rows in SQLite. A schtasks /create ... /tr "cmd.exe ..."
started by cmd.exe reaches rule 100300 (level 12, T1053.005) with the
built-in ruleset. It does so with Wazuh's stock ruleset too, when that is
available. The same event scheduling a program in Program Files does not."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonlib as dl  # noqa: E402

SAMPLES = os.path.join(dl.SOURCE_DIR, "etc", "samples", "sysmon-eid1.jsonl")
LOCAL_RULES = os.path.join(dl.SOURCE_DIR, "etc", "rules", "local_rules.xml")
SHARED = os.environ.get("WL_SHARED_DIR", "")
STOCK_RULES = os.path.join(SHARED, "wazuh-ruleset", "full", "rules")

# Line 6 of the samples: schtasks.exe started by cmd.exe, /tr cmd.exe.
SCHTASKS_LINE = 6
CMD_PAYLOAD = "C:\\Windows\\system32\\cmd.exe /C C:\\Windows\\System32\\notepad.exe"
SAFE_PAYLOAD = "C:\\Program Files\\Vendor\\update.exe"


def read_samples():
    with open(SAMPLES, "rb") as f:
        return [line.rstrip(b"\n") for line in f if line.strip()]


def with_safe_payload(line):
    """The event with its /tr program moved to Program Files."""
    payload = json.loads(line)
    event = payload["Event"].replace(CMD_PAYLOAD, SAFE_PAYLOAD)
    assert event != payload["Event"]
    payload["Event"] = event
    return json.dumps(payload, separators=(",", ":"),
                      ensure_ascii=False).encode()


def forwarded(payload, agent_id="001", name="WIN10"):
    return b"f:[%s] (%s) any->EventChannel:" % (agent_id.encode(),
                                                name.encode()) + payload


def run(tap, label, work, ruleset_xml, bodies):
    """Sends bodies to a daemon with that ruleset; returns its alert rows,
    the lines of its alerts.json and its archived events."""
    port = dl.free_port()
    extra = ("<global><jsonout_output>yes</jsonout_output></global>\n"
             + ruleset_xml)
    d = dl.Daemon(work, port=port, name=label,
                  config=dl.config_xml(port, extra=extra),
                  data_dir=os.path.join(work, label + "-data"))
    try:
        d.start()
        dl.send_all(port, bodies)
        d.wait_for_log("closed: ")
        tap.equal(d.stop(), 0, label + ": SIGTERM exits 0")
        rows = dl.query(d.db_path,
                        "SELECT rule_id, level, mitre, groups, description, "
                        "agent_id, agent_name, location FROM alerts "
                        "ORDER BY id")
        events = dl.query(
            d.db_path,
            "SELECT decoder, json_extract(fields, '$.win.system.eventID'), "
            "json_extract(fields, '$.win.system.providerName') "
            "FROM events ORDER BY id")
        path = os.path.join(d.data_dir, "alerts.json")
        lines = []
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                lines = [json.loads(x) for x in f if x.strip()]
        return rows, lines, events
    finally:
        d.kill()


def check_100300(tap, label, rows, lines, expected_count):
    hits = [r for r in rows if r[0] == 100300]
    tap.equal(len(hits), expected_count, label + ": 100300 alert rows")
    if not hits:
        return
    rule_id, level, mitre, groups, description, agent_id, name, loc = hits[0]
    tap.equal(level, 12, label + ": level 12")
    tap.equal(json.loads(mitre), ["T1053.005"], label + ": MITRE id")
    tap.equal(json.loads(groups), ["sysmon", " persistence"],
              label + ": groups keep the space")
    tap.ok(description.startswith("HIGH: Suspicious Scheduled Task"),
           label + ": description", description)
    tap.equal((agent_id, name, loc), ("001", "WIN10", "EventChannel"),
              label + ": agent and location")
    json_hits = [a for a in lines if a["rule"]["id"] == "100300"]
    tap.equal(len(json_hits), expected_count,
              label + ": alerts.json lines of 100300")
    if json_hits:
        rule = json_hits[0]["rule"]
        tap.equal(rule["mitre"]["technique"], ["Scheduled Task"],
                  label + ": technique name")
        tap.equal(rule["mitre"]["tactic"],
                  ["Execution", "Persistence", "Privilege Escalation"],
                  label + ": tactic names")


def main():
    dl.require_daemon()
    tap = dl.Tap()
    work = dl.scratch_dir("alerts")
    samples = read_samples()
    schtasks = samples[SCHTASKS_LINE - 1]
    try:
        # The built-in ruleset: every sample, then the Program Files case.
        rows, lines, events = run(tap, "builtin", work, "",
                                  [forwarded(s) for s in samples])
        tap.equal(len(events), len(samples), "builtin: every event archived")
        tap.ok(all(e == ("windows_eventchannel", "1",
                         "Microsoft-Windows-Sysmon") for e in events),
               "builtin: archived rows carry decoded fields", events)
        ids = [r[0] for r in rows]
        tap.ok(ids.count(100300) >= 1, "builtin: sample line 6 alerts",
               ids)
        check_100300(tap, "builtin", rows, lines, ids.count(100300))
        rows, lines, _ = run(tap, "builtin-safe", work, "",
                          [forwarded(with_safe_payload(schtasks))])
        tap.ok(all(r[0] != 100300 for r in rows),
               "builtin: Program Files payload gives no 100300", rows)

        if not os.path.isdir(STOCK_RULES):
            tap.diag("Wazuh's stock ruleset not found; stock cases skipped")
            tap.done()
            return
        ruleset = ("<ruleset>\n"
                   "  <rule_dir>%s</rule_dir>\n"
                   "  <rule_exclude>0215-policy_rules.xml</rule_exclude>\n"
                   "  <rule_include>%s</rule_include>\n"
                   "</ruleset>\n" % (STOCK_RULES, LOCAL_RULES))
        rows, lines, _ = run(tap, "stock", work, ruleset,
                          [forwarded(schtasks), forwarded(samples[0])])
        check_100300(tap, "stock", rows, lines, 1)
        rows, lines, _ = run(tap, "stock-safe", work, ruleset,
                          [forwarded(with_safe_payload(schtasks))])
        tap.ok(all(r[0] != 100300 for r in rows),
               "stock: Program Files payload gives no 100300", rows)
        tap.ok(any(r[0] == 92032 for r in rows),
               "stock: Program Files payload stops at 92032", rows)
    finally:
        dl.cleanup(work)
    tap.done()


main()
