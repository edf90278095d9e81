#!/bin/sh
# Writes a C source holding rule files as a struct wl_ruleset_buffer
# array, for the built-in default ruleset. Usage: embed-rules.sh FILE...
# Each buffer is named "builtin:<file name>". Backslashes, quotes, tabs
# and '?' are escaped, so no trigraph can form in the strings.
set -e
echo '/* Generated from etc/rules/ by rules/embed-rules.sh. */'
echo '#include "rules/default_rules.h"'
echo
echo 'const struct wl_ruleset_buffer wl_default_rules[] = {'
for f in "$@"; do
    echo "    {\"builtin:$(basename "$f")\","
    LC_ALL=C sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' \
        -e 's/	/\\t/g' -e 's/^/        "/' -e 's/$/\\n"/' "$f"
    # A last line without a newline is stored with one added.
    bytes=$(LC_ALL=C sed -e '$a\' "$f" | wc -c)
    echo "        , $bytes},"
done
echo '    {0, 0, 0},'
echo '};'
