#!/bin/sh
# wazlab-logtest phase 3: the rules that matched a Sysmon schtasks event,
# as text and in --json output.
logtest="${top_builddir:-.}/wazlab-logtest"
local_rules="${top_srcdir:-.}/etc/rules/local_rules.xml"
event_file="$WL_SHARED_DIR/corpus/sysmon-eid1-rebuilt.jsonl"

if [ -z "$WL_SHARED_DIR" ] || [ ! -r "$event_file" ]; then
    echo "1..0 # SKIP WL_SHARED_DIR with the corpus not available"
    exit 0
fi
echo "1..5"
event=$(sed -n 788p "$event_file")
n=0
check() {
    n=$((n + 1))
    if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}

text=$(printf '%s\n' "$event" | "$logtest" -q f -l EventChannel -a WIN10 \
    --wazuh-ruleset "$WL_SHARED_DIR/wazuh-ruleset/full" \
    --rules-file "$local_rules" --log-alert-level 3 2>/dev/null)
printf '%s\n' "$text" | grep -q \
    'rules matched: 7 -> 60000 -> 60004 -> 61600 -> 61603 -> 92032 -> 100300'
check $? "text: chain of rules that matched"
printf '%s\n' "$text" | grep -q "level: '12'"
check $? "text: level 12"
printf '%s\n' "$text" | grep -q '^\*\*Alert to be generated'
check $? "text: alert announced"

json=$(printf '%s\n' "$event" | "$logtest" -q f -l EventChannel -a WIN10 \
    --rules-dir "${top_srcdir:-.}/etc/rules" --json 2>/dev/null)
printf '%s\n' "$json" | grep -q '"rule":{"id":"100300","level":12,'
check $? "json: rule object of 100300 with the default ruleset"
printf '%s\n' "$json" | grep -q '"alert":true}$'
check $? "json: alert is true"
