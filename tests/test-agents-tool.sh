#!/bin/sh
# wazlab-agents: add, list, show-key, remove and import on a temporary
# client.keys. Prints TAP.
tool="${top_builddir:-.}/wazlab-agents"
dir=$(mktemp -d /tmp/wazlab-agents-tool-XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
n=0
failed=0

check() {
    n=$((n + 1))
    if [ "$1" = 0 ]; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
        failed=1
    fi
}

"$tool" -d "$dir" list | grep -q "No agents registered"
check $? "list: empty store"

out=$("$tool" -d "$dir" add web-01)
echo "$out" | grep -q "Agent added: ID 001, name web-01, IP any"
check $? "add: first agent gets 001"

"$tool" -d "$dir" add db-01 10.0.0.7 >/dev/null
check $? "add: agent with an address"

"$tool" -d "$dir" add web-01 2>/dev/null
[ $? -ne 0 ]
check $? "add: duplicate name rejected"

"$tool" -d "$dir" add "bad name" 2>/dev/null
[ $? -ne 0 ]
check $? "add: invalid name rejected"

"$tool" -d "$dir" add other 10.0.0.300 2>/dev/null
[ $? -ne 0 ]
check $? "add: invalid address rejected"

out=$("$tool" -d "$dir" list)
echo "$out" | grep -q "^002 *db-01 *10.0.0.7$"
check $? "list: shows id, name and address"

echo "$out" | grep -qE "[0-9a-f]{64}"
[ $? -ne 0 ]
check $? "list: prints no key"

line=$("$tool" -d "$dir" show-key --line 001)
grep -qx "$line" "$dir/client.keys"
check $? "show-key: line matches client.keys"

b64=$("$tool" -d "$dir" show-key 001)
[ "$(echo "$b64" | base64 -d)" = "$line" ]
check $? "show-key: base64 of the line"

"$tool" -d "$dir" show-key 042 2>/dev/null
[ $? -ne 0 ]
check $? "show-key: unknown id rejected"

"$tool" -d "$dir" remove 001 >/dev/null
check $? "remove: agent 001"

grep -q "^001 !web-01 any " "$dir/client.keys"
check $? "remove: line kept with '!'"

out=$("$tool" -d "$dir" add web-02)
echo "$out" | grep -q "ID 003"
check $? "add: removed id not reused"

printf '%s\n' "010 imported-a any aaaa" "002 clash-id any bbbb" \
    "011 db-01 any cccc" "012 !gone any dddd" > "$dir/other.keys"
"$tool" -d "$dir" import "$dir/other.keys" >/dev/null 2>&1
[ $? -ne 0 ]
check $? "import: conflicts reported in the status"

grep -q "^010 imported-a any aaaa$" "$dir/client.keys"
check $? "import: new entry added with its id"

grep -q "clash-id" "$dir/client.keys"
[ $? -ne 0 ]
check $? "import: taken id skipped"

out=$("$tool" -d "$dir" add after-import)
echo "$out" | grep -q "ID 011"
check $? "import: id counter follows imported ids"

"$tool" -d "$dir" frobnicate 2>/dev/null
[ $? -ne 0 ]
check $? "usage: unknown command rejected"

echo "1..$n"
exit $failed
