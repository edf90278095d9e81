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

"$tool" --help | grep -q "^Usage: wazlab-agents"
check $? "usage: --help prints the usage"

"$tool" -h | grep -q "^Usage: wazlab-agents"
check $? "usage: -h prints the usage"

err=$("$tool" -d "$dir" import "$dir/no-such-file" 2>&1)
rc=$?
[ $rc -ne 0 ]
check $? "import: missing file fails"
echo "$err" | grep -q "cannot read $dir/no-such-file: No such file"
check $? "import: missing file named with the reason"

err=$("$tool" -d "$dir/no-such-dir" list 2>&1)
rc=$?
[ $rc -ne 0 ]
check $? "list: missing data folder fails"
echo "$err" | grep -q "data folder $dir/no-such-dir: No such file"
check $? "list: missing data folder named"

mkdir "$dir/empty"
"$tool" -d "$dir/empty" list | grep -q "client.keys does not exist"
check $? "list: missing client.keys reported"

# A NUL byte and invalid ids: reported, skipped, and written back.
key=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
mkdir "$dir/bad"
printf 'x\000y\n002 ok any %s\n003 ok3 any %s\n-1 neg any abcd\nabc let any abcd\n' \
    "$key" "$key" > "$dir/bad/client.keys"
out=$("$tool" -d "$dir/bad" list 2>"$dir/bad/err")
echo "$out" | grep -q "^002 "
check $? "bad lines: agent after a NUL line listed"
echo "$out" | grep -q "^003 "
check $? "bad lines: later agent listed"
echo "$out" | grep -qE "^(-1|abc) "
[ $? -ne 0 ]
check $? "bad lines: invalid ids not listed"
grep -q "client.keys:1: invalid NUL byte" "$dir/bad/err"
check $? "bad lines: NUL byte reported"
grep -q "client.keys:4: invalid agent id '-1'" "$dir/bad/err"
check $? "bad lines: id -1 reported"
grep -q "client.keys:5: invalid agent id 'abc'" "$dir/bad/err"
check $? "bad lines: id abc reported"

"$tool" -d "$dir/bad" add after-bad >/dev/null 2>&1
check $? "bad lines: add still works"
grep -q "^002 ok any $key$" "$dir/bad/client.keys"
check $? "bad lines: agent 002 kept by add"
grep -q "^-1 neg any abcd$" "$dir/bad/client.keys"
check $? "bad lines: invalid line kept by add"
[ "$(tr -d '\n' < "$dir/bad/client.keys" | tr '\000' '@' | grep -c 'x@y')" = 1 ]
check $? "bad lines: NUL line kept by add"

printf '%s\n' "020 good-import any abcd" "-5 bad-import any abcd" \
    > "$dir/bad/other.keys"
err=$("$tool" -d "$dir/bad" import "$dir/bad/other.keys" 2>&1)
echo "$err" | grep -q "other.keys:2: invalid agent id '-5'"
check $? "import: invalid id named with its line"
grep -q "^020 good-import any abcd$" "$dir/bad/client.keys"
check $? "import: valid line of the same file added"

echo "1..$n"
exit $failed
