# Turns the ATT&CK tables into C arrays for rules/mitre.c.
# Input: tactics.tsv lines prefixed "A\t", then techniques.tsv lines sorted
# by id (byte order) prefixed "T\t". Deprecated techniques are left out.
function cstr(s) {
    gsub(/\\/, "\\\\", s)
    gsub(/"/, "\\\"", s)
    return "\"" s "\""
}
BEGIN {
    FS = "\t"
    print "/* Generated from the tables in rules/mitre/ by rules/mitre-gen.awk. */"
    print "#include \"rules/mitre.h\""
    print ""
    print "const struct wl_mitre_tactic wl_mitre_tactics[] = {"
}
$1 == "A" && $2 != "id" {
    print "    {" cstr($2) ", " cstr($4) "},"
    tactics++
}
$1 == "T" && !in_techniques {
    print "};"
    print "const size_t wl_mitre_tactic_count = " tactics ";"
    print ""
    print "const struct wl_mitre_technique wl_mitre_techniques[] = {"
    in_techniques = 1
}
$1 == "T" && $2 != "id" && $5 != "1" {
    print "    {" cstr($2) ", " cstr($3) ", " cstr($4) "},"
    techniques++
}
END {
    print "};"
    print "const size_t wl_mitre_technique_count = " techniques ";"
}
