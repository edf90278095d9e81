#!/bin/sh
# The main job on built-in defaults: start wazlabd with a scratch data
# directory, send the bundled Sysmon events over TLS with wazlab-send,
# stop the daemon and print the alerts stored in SQLite.
# Usage: wazlab-demo.sh BUILDDIR SRCDIR
# The daemon listens on 127.0.0.1 only; WAZLAB_DEMO_PORT sets the event
# port (default: a free one) and the enrollment port is the next one.
set -eu

builddir=$(cd "$1" && pwd)
srcdir=$(cd "$2" && pwd)
samples=$srcdir/etc/samples/sysmon-eid1.jsonl
work=$builddir/demo-data

for tool in sqlite3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "wazlab-demo: $tool not found; on Debian: apt-get install $tool" >&2
        exit 1
    fi
done

# Prints a port P on 127.0.0.1 such that P and P + 1 were both free.
pick_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket
while True:
    a, b = socket.socket(), socket.socket()
    try:
        a.bind(("127.0.0.1", 0))
        port = a.getsockname()[1]
        if port < 65535:
            b.bind(("127.0.0.1", port + 1))
            print(port)
            break
    except OSError:
        pass
    finally:
        a.close()
        b.close()'
    else
        echo 21514
    fi
}
port=${WAZLAB_DEMO_PORT:-$(pick_port)}

rm -rf "$work"
mkdir -p "$work"
# Everything else keeps its built-in default, the ruleset included.
cat >"$work/demo.conf" <<XML
<ossec_config>
  <remote><local_ip>127.0.0.1</local_ip><port>$port</port></remote>
  <auth><port>$((port + 1))</port></auth>
</ossec_config>
XML

echo "== starting wazlabd on 127.0.0.1:$port (data in $work)"
"$builddir/wazlabd" -f -c "$work/demo.conf" -D "$work/data" \
    >"$work/wazlabd.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT INT TERM

tries=0
until grep -q 'INFO: ready' "$work/wazlabd.log" 2>/dev/null; do
    tries=$((tries + 1))
    if ! kill -0 "$pid" 2>/dev/null || [ "$tries" -gt 600 ]; then
        echo "wazlab-demo: wazlabd did not start; its log:" >&2
        cat "$work/wazlabd.log" >&2
        exit 1
    fi
    sleep 0.1
done

echo "== sending $(wc -l <"$samples") Sysmon events as agent 001 (WIN10)"
if ! "$builddir/wazlab-send" --host 127.0.0.1 --port "$port" \
    --agent WIN10 --agent-id 001 "$samples" >"$work/send.log" 2>&1; then
    echo "wazlab-demo: wazlab-send failed:" >&2
    cat "$work/send.log" >&2
    exit 1
fi
grep -v '^wazlab-send: warning' "$work/send.log" || true

kill -TERM "$pid"
wait "$pid" || {
    echo "wazlab-demo: wazlabd failed; its log:" >&2
    cat "$work/wazlabd.log" >&2
    exit 1
}
trap - EXIT INT TERM

db=$work/data/wazlab.db
echo "== alerts in $db"
sqlite3 -header -column "$db" "
SELECT rule_id, level, substr(description, 1, 60) AS description,
       mitre, agent_name AS agent
FROM alerts ORDER BY level DESC, id;"
echo
echo "== rule 100300 with the scheduled command line"
echo "   (backslashes and quotes escaped, as Wazuh's decoder stores them)"
sqlite3 "$db" "
SELECT json_extract(fields, '$.win.eventdata.commandLine')
FROM alerts WHERE rule_id = 100300;"
echo
echo "Daemon log: $work/wazlabd.log; alerts.json: $work/data/alerts.json"
