/*
 * Unit tests of wl_decode(): pre-decoding of the queue message, malformed
 * and hostile Event Channel payloads (each with the outcome Wazuh 4.14.7
 * gives), the JSON decoder and the alert "data" object.
 */
#include "config.h"

#include "decoders/decode.h"
#include "daemon/error.h"
#include "tests/tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct wl_decoders *decoders;
static struct wl_decode_scratch *scratch;
static struct wl_decode_stats stats;
static struct wl_event ev;

/* Decodes msg (len bytes, or strlen when 0) into the shared event. */
static int decode_n(const char *msg, size_t len)
{
    wl_event_reset(&ev);
    return wl_decode(decoders, scratch, msg, len ? len : strlen(msg), &ev,
                     &stats);
}

static int decode(const char *msg)
{
    return decode_n(msg, 0);
}

static const char *field(const char *name)
{
    const struct wl_field *f = wl_event_field_by_name(&ev, name);

    return f ? f->value : NULL;
}

static char *data_json(void)
{
    int nomem;

    return wl_event_data_json(&ev, &nomem);
}

static void test_predecode(void)
{
    is_int(decode("f:[001] (WIN10) 10.0.0.5->EventChannel:{\"Event\":"
                  "\"<Event/>\"}"),
           0, "agent event decodes");
    is_str(ev.agent_id, "001", "agent id from brackets");
    is_str(ev.agent_name, "WIN10", "agent name from parentheses");
    is_str(ev.agent_ip, "10.0.0.5", "agent registered IP");
    is_str(ev.location, "(WIN10) 10.0.0.5->EventChannel",
           "location keeps the agent prefix");
    ok(ev.program_name == NULL, "event channel has no program name");

    is_int(decode("f:EventChannel:{\"Event\":\"<Event/>\"}"), 0,
           "local event decodes");
    is_str(ev.agent_id, "000", "local event is agent 000");
    ok(ev.agent_name != NULL && ev.agent_name[0] != '\0',
       "local event is named after the manager");
    is_str(ev.location, "EventChannel", "local location as sent");

    is_int(decode("1:C|:\\logs|:x.log:hello"), 0, "escaped colons");
    is_str(ev.location, "C:\\logs:x.log", "location unescaped");
    is_str(ev.full_log, "hello", "log after the location");

    is_int(decode("1:[001 (a) any->x:hello"), WL_EINVAL,
           "agent without ']' is rejected");
    is_int(decode("1:nocolon"), WL_EINVAL, "message without ':' rejected");
    is_int(decode("x"), WL_EINVAL, "message without queue rejected");
    ok(stats.invalid_message >= 3, "invalid messages counted");

    is_int(decode("1:/var/log/auth:Dec 29 10:00:01 myhost sshd[1234]: "
                  "Failed password"),
           0, "syslog line decodes");
    is_str(ev.program_name, "sshd", "program name");
    is_str(ev.agent_name, "myhost", "host name of a local syslog line");
    is_str(ev.log, "Failed password", "log after the header");
    is_str(ev.dec_timestamp, "Dec 29 10:00:01", "predecoded timestamp");

    decode("1:x:2015 Dec 29 10:00:01 myhost prog: hello");
    is_str(ev.program_name, "prog", "program after a year timestamp");
    is_str(ev.log, "hello", "log after prog:");
    decode("1:x:Dec 29 10:00:01 prog: hello");
    is_str(ev.program_name, "prog", "Solaris line without host");
    decode("1:x:Dec 29 10:00:01 my_host!x prog: hello");
    ok(ev.program_name == NULL, "invalid host name gives no program");
    is_str(ev.log, "my_host!x prog: hello", "log stays at the host");
    decode("1:x:Dec 29 10:00:01 myhost prog[12]: [ID 123 auth.notice] hi");
    is_str(ev.log, "hi", "[ID ...] skipped");

    decode("1:x:Mon Apr 17 18:27:14 2006 1 64.160.42.130 5 /x b _ o r");
    is_str(ev.dec_timestamp, "Mon Apr 17 18:27:14 2006", "xferlog stamp");
    is_str(ev.log, "1 64.160.42.130 5 /x b _ o r", "xferlog log");
    decode("1:x:01/28-09:13:16.240702  [**] [1:2:3] alert");
    is_str(ev.dec_timestamp, "01/28-09:13:16.240702", "snort stamp");
    is_str(ev.log, "[**] [1:2:3] alert", "snort log");
    decode("1:x:01/28/1979-09:13:16.240702  [**] alert text");
    is_str(ev.dec_timestamp, "01/28/1979-09:13:16.240702", "suricata stamp");
    is_str(ev.log, "[**] alert text", "suricata log");
    decode("1:x:[Fri Feb 11 18:06:35 2004] [warn] x");
    is_str(ev.dec_timestamp, "Fri Feb 11 18:06:35 2004", "apache stamp");
    is_str(ev.log, "[warn] x", "apache log");
    decode("1:x:[Time 2006.12.28 15:53:55 UTC] [Facility auth] [Sender sshd] "
           "[PID 483] [Message error: PAM] [Level 3] [Host mac1]");
    is_str(ev.program_name, "sshd", "ASL sender is the program");
    is_str(ev.log, "error: PAM", "ASL message is the log");
    is_str(ev.agent_name, "mac1", "ASL host");
    decode("1:x:1140804070.368  11623 10.0.0.1 TCP_MISS/200 1 GET http://x/");
    is_str(ev.dec_timestamp, "1140804070.368 ", "squid stamp");
    is_str(ev.log, "11623 10.0.0.1 TCP_MISS/200 1 GET http://x/", "squid log");
}

static void test_json_decoder(void)
{
    is_int(decode("1:x:{\"a\":{\"b\":[1,2,\"x\"],\"c\":null,\"d\":3000000000,"
                  "\"e\":1.5,\"f\":true},\"srcip\":\"1.2.3.4\","
                  "\"user\":\"bob\"}"),
           0, "JSON log decodes");
    is_str(ev.decoder_name, "json", "json decoder");
    is_str(field("a.b"), "[1, 2, \"x\"]", "array printed formatted");
    is_str(field("a.c"), "null", "null as text");
    is_str(field("a.d"), "3000000000.000000",
           "large number as a decimal fraction");
    is_str(field("a.e"), "1.500000", "fraction with six decimals");
    is_str(field("a.f"), "true", "boolean as text");
    is_str(ev.static_fields[WL_SF_SRCIP], "1.2.3.4", "srcip is static");
    is_str(ev.static_fields[WL_SF_DSTUSER], "bob", "user sets dstuser");

    char *data = data_json();
    is_str(data,
           "{\"srcip\":\"1.2.3.4\",\"dstuser\":\"bob\",\"a\":{\"b\":[1,2,"
           "\"x\"],\"c\":\"null\",\"d\":\"3000000000.000000\",\"e\":"
           "\"1.500000\",\"f\":\"true\"}}",
           "data object of a JSON log");
    free(data);

    decode("1:x:Dec 29 10:00:01 h myprog: {\"k\":\"v\"}");
    ok(ev.decoder_name == NULL, "JSON after a program name: no decoder");
    decode("1:x:{\"integration\":\"ms-graph\",\"n\":null}");
    is_str(ev.decoder_name, "json-msgraph", "ms-graph decoder");
    ok(field("n") == NULL, "ms-graph discards nulls");
    decode("1:x:[1,2]");
    ok(ev.decoder_name == NULL, "JSON array log: no decoder");

    struct wl_event e;
    wl_event_init(&e, NULL);
    is_int(wl_decode_json_fields(&e,
                                 "{\"l\":[\"a\",1,null,true,{\"o\":1}],"
                                 "\"e\":[]}",
                                 WL_JSON_ARRAY_CSV),
           0, "CSV arrays decode");
    is_int((long)e.field_count, 1, "empty CSV array dropped");
    is_str(e.field_count ? e.fields[0].value : NULL, "a,1,null,true,",
           "CSV array joined, objects skipped");
    wl_event_free(&e);
}

static void test_data_json(void)
{
    struct wl_event e;

    wl_event_init(&e, NULL);
    wl_event_add_field(&e, "win.eventdata.dup", 17, "a", 1);
    wl_event_add_field(&e, "win.eventdata.Dup", 17, "b", 1);
    wl_event_add_field(&e, "win.eventdata.empty", 19, "", 0);
    wl_event_add_field(&e, "win.eventdata.dup.x", 19, "c", 1);
    wl_event_add_field(&e, "win.eventdata.list", 18, "[1, \"a\"]", 8);
    wl_event_add_field(&e, "win.eventdata.notlist", 21, "[1] x", 5);
    wl_event_add_field(&e, "win.eventdata.path", 18, "C:\\\\W", 5);

    int nomem;
    char *data = wl_event_data_json(&e, &nomem);
    is_str(data,
           "{\"win\":{\"eventdata\":{\"dup\":\"a\",\"list\":[1,\"a\"],"
           "\"notlist\":\"[1] x\",\"path\":\"C:\\\\\\\\W\"}}}",
           "data: duplicates, empties, collisions and arrays");
    free(data);

    wl_event_reset(&e);
    data = wl_event_data_json(&e, &nomem);
    ok(data == NULL && !nomem, "data: empty event gives NULL");
    wl_event_free(&e);
}

/* Decodes an Event Channel payload sent by agent 001. */
static int decode_ec(const char *payload)
{
    static const char prefix[] = "f:[001] (WIN10) any->EventChannel:";
    size_t len = sizeof(prefix) - 1 + strlen(payload);
    char *msg = malloc(len + 1);
    int r;

    if (msg == NULL)
        abort();
    memcpy(msg, prefix, sizeof(prefix) - 1);
    strcpy(msg + sizeof(prefix) - 1, payload);
    r = decode_n(msg, len);
    free(msg);
    return r;
}

/* The "data" text of ev built from its fields alone. */
static char *data_json_from_fields(void)
{
    struct wl_event copy;
    int nomem;
    char *json;

    if (wl_event_init(&copy, NULL) < 0)
        abort();
    for (size_t i = 0; i < ev.field_count; i++)
        wl_event_add_field(&copy, ev.fields[i].name, ev.fields[i].name_len,
                           ev.fields[i].value, ev.fields[i].value_len);
    json = wl_event_data_json(&copy, &nomem);
    wl_event_free(&copy);
    return json;
}

#define EC_EVENT(inner) "{\"Event\":\"<Event>" inner "</Event>\"}"

/*
 * The decoder hands full_log over as the "data" text only when they are
 * the same. Either way the text is the one built from the fields.
 */
static void test_data_from_full_log(void)
{
    static const struct {
        const char *name;
        const char *payload;
        int reused;
    } cases[] = {
        {"plain event",
         EC_EVENT("<System><EventID>1</EventID></System><EventData>"
                  "<Data Name='Image'>C:\\\\a \\\"b\\\"</Data></EventData>"),
         1},
        {"extra section",
         EC_EVENT("<System><EventID>1</EventID></System><UserData><X>"
                  "<A>1</A></X></UserData>"),
         1},
        {"keys equal ignoring case",
         EC_EVENT("<System><EventID>1</EventID></System><EventData>"
                  "<Data Name='Image'>a</Data><Data Name='image'>b</Data>"
                  "</EventData>"),
         0},
        {"dotted key",
         EC_EVENT("<System><EventID>1</EventID></System><EventData>"
                  "<Data Name='a.b'>x</Data></EventData>"),
         0},
        {"array value",
         EC_EVENT("<System><EventID>1</EventID></System><EventData>"
                  "<Data Name='list'>[1,2]</Data></EventData>"),
         0},
        {"empty value",
         EC_EVENT("<System><Provider Name=''/><EventID>1</EventID>"
                  "</System>"),
         0},
        {"extra section named system",
         EC_EVENT("<System><EventID>1</EventID></System><UserData><System>"
                  "<A>1</A></System></UserData>"),
         0},
        {"empty extra section",
         EC_EVENT("<System><EventID>1</EventID></System><UserData><X/>"
                  "</UserData>"),
         0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *name = cases[i].name;

        is_int(decode_ec(cases[i].payload), 0, "%s: decodes", name);
        is_int(ev.data_json != NULL, cases[i].reused,
               "%s: full_log reused as data", name);

        char *got = data_json();
        char *expected = data_json_from_fields();
        is_str(got, expected, "%s: data text", name);
        free(got);
        free(expected);
    }
}

/* Decodes an Event Channel payload of agent 001 into e. */
static int decode_into(struct wl_event *e, const char *payload)
{
    char msg[1024];
    int n = snprintf(msg, sizeof(msg), "f:[001] (WIN10) any->EventChannel:%s",
                     payload);

    wl_event_reset(e);
    return wl_decode(decoders, scratch, msg, (size_t)n, e, &stats);
}

/* Checks that every field of e has the slot its name has in names. */
static void check_slots(const struct wl_event *e,
                        const struct wl_fieldnames *names, const char *what)
{
    int bad = 0;

    for (size_t i = 0; i < e->field_count; i++) {
        const struct wl_field *f = &e->fields[i];

        bad += f->slot != wl_fieldnames_find(names, f->name, f->name_len);
    }
    is_int(bad, 0, "%s: every field in its slot", what);
}

/* Slots stay right across events and when the registry changes. */
static void test_slots(void)
{
    static const char payload[] =
        EC_EVENT("<System><EventID>4688</EventID><Channel>Security</Channel>"
                 "</System><EventData><Data Name='NewProcessName'>a.exe"
                 "</Data></EventData>");
    struct wl_fieldnames *first = wl_fieldnames_new();
    struct wl_fieldnames *second = wl_fieldnames_new();
    struct wl_event e1, e2;

    if (first == NULL || second == NULL)
        abort();
    wl_fieldnames_add(first, "win.system.eventID", 18);
    wl_fieldnames_add(first, "win.eventdata.newProcessName", 28);
    wl_fieldnames_freeze(first);
    wl_fieldnames_add(second, "win.system.channel", 18);
    wl_fieldnames_add(second, "WIN.EVENTDATA.NEWPROCESSNAME", 28);
    wl_fieldnames_add(second, "win.system.eventID", 18);
    wl_fieldnames_freeze(second);
    if (wl_event_init(&e1, first) < 0 || wl_event_init(&e2, second) < 0)
        abort();

    for (int pass = 0; pass < 2; pass++) {
        is_int(decode_into(&e1, payload), 0, "first registry: decodes");
        check_slots(&e1, first, "first registry");
        const struct wl_field *f = wl_event_field_by_slot(&e1, 1);
        is_str(f ? f->value : NULL, "a.exe", "first registry: slot 1");

        is_int(decode_into(&e2, payload), 0, "second registry: decodes");
        check_slots(&e2, second, "second registry");
        f = wl_event_field_by_slot(&e2, 0);
        is_str(f ? f->value : NULL, "Security", "second registry: slot 0");
        f = wl_event_field_by_slot(&e2, 2);
        is_str(f ? f->value : NULL, "4688", "second registry: slot 2");
    }
    wl_event_free(&e1);
    wl_event_free(&e2);
    wl_fieldnames_free(first);
    wl_fieldnames_free(second);
}

static const char message_only[] =
    "{\"win\":{\"system\":{\"message\":\"\\\"m\\\"\"}}}";

static void test_malformed(void)
{
    struct wl_decode_stats before = stats;

    is_int(decode_ec("{\"Message\":\"m\",\"Event\":"), WL_EINVAL,
           "invalid JSON is dropped");
    is_int((long)(stats.dropped_json - before.dropped_json), 1,
           "invalid JSON counted");
    is_int(decode_ec("{\"Message\":\"m\"}"), WL_EINVAL,
           "JSON without Event is dropped");
    is_int((long)(stats.dropped_no_event - before.dropped_no_event), 1,
           "missing Event counted");

    is_int(decode_ec("{\"Message\":\"m\",\"Event\":\"<Event><System>"
                     "<EventID>1</EventID>\"}"),
           0, "unterminated XML is kept");
    is_str(ev.full_log, message_only, "unterminated XML: message only");
    ok(stats.xml_unreadable > before.xml_unreadable, "unreadable XML counted");

    is_int(decode_ec("{\"Message\":\"m\",\"Event\":\"<!DOCTYPE l [<!ENTITY "
                     "a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;'>"
                     "<!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;'><!ENTITY d "
                     "'&c;&c;&c;&c;&c;&c;&c;&c;'>]><Event><System>"
                     "<Computer>&d;</Computer></System></Event>\"}"),
           0, "nested entities: kept");
    is_str(ev.full_log, message_only, "nested entities: message only");

    is_int(decode_ec("{\"Message\":\"m\",\"Event\":\"<!DOCTYPE x [<!ENTITY "
                     "x SYSTEM 'file:///etc/passwd'>]><Event><System>"
                     "<Computer>&x;</Computer></System></Event>\"}"),
           0, "external entity: kept");
    is_str(ev.full_log, message_only, "external entity: message only");

    is_int(decode_ec("{\"Event\":\"<Event><System><Computer>&x;&lt;&#65;"
                     "</Computer></System></Event>\"}"),
           0, "entity references decode");
    is_str(field("win.system.computer"), "&x;&lt;&#65;",
           "entity references stay as typed");

    is_int(decode_ec("{\"Event\":\"<Event><System><Computer>a<![CDATA[b]]>"
                     "</Computer></System></Event>\"}"),
           0, "CDATA: kept");
    is_str(ev.full_log, "{\"win\":{\"system\":{}}}",
           "CDATA makes the XML unreadable");

    is_int(decode_ec("{\"Event\":\"<Event><System><Computer>\xff\xfe"
                     "x\xc3</Computer></System></Event>\"}"),
           0, "invalid UTF-8 decodes");
    is_str(field("win.system.computer"), "\xff\xfex\xc3",
           "invalid UTF-8 bytes kept as sent");

    is_int(decode_ec("{\"Event\":\"<Event><System><Computer>\xc3\xa9\xe2\x82"
                     "\xac</Computer></System></Event>\"}"),
           0, "UTF-8 decodes");
    is_str(field("win.system.computer"), "\xc3\xa9\xe2\x82\xac", "UTF-8 kept");

    static const char nul_msg[] =
        "f:[001] (WIN10) any->EventChannel:{\"Message\":\"a\0b\",\"Event\":"
        "\"<Event/>\"}";
    is_int(decode_n(nul_msg, sizeof(nul_msg) - 1), WL_EINVAL,
           "NUL byte ends the message: dropped");
    is_int(decode_ec("{\"Message\":\"m\",\"Event\":\"<Event><System>"
                     "<Computer>A\\u0000B</Computer></System></Event>\"}"),
           0, "escaped NUL in Event: kept");
    is_str(ev.full_log, message_only, "escaped NUL cuts the XML");

    is_int(decode_ec("{\"Event\":\"<Event><EventData><Data Name='A'>"
                     "x\\u0002y</Data></EventData></Event>\"}"),
           0, "control character decodes");
    is_str(field("win.eventdata.a"), "x\\u0002y",
           "control character as \\u0002");
}

/* Builds a payload whose command line has n characters. */
static char *long_command(size_t n)
{
    static const char head[] =
        "{\"Message\":\"m\",\"Event\":\"<Event><System><EventID>1</EventID>"
        "</System><EventData><Data Name='CommandLine'>";
    static const char tail[] = "</Data></EventData></Event>\"}";
    char *p = malloc(sizeof(head) + n + sizeof(tail));

    if (p == NULL)
        abort();
    strcpy(p, head);
    memset(p + sizeof(head) - 1, 'A', n);
    strcpy(p + sizeof(head) - 1 + n, tail);
    return p;
}

static void test_limits(void)
{
    char *p = long_command(60000);
    is_int(decode_ec(p), 0, "60 KB command line: kept");
    is_str(ev.full_log, message_only, "60 KB command line: message only");
    free(p);

    p = long_command(20479);
    is_int(decode_ec(p), 0, "20479-byte value decodes");
    const char *v = field("win.eventdata.commandLine");
    ok(v != NULL && strlen(v) == 20479, "20479-byte value kept whole");
    free(p);

    p = long_command(20480);
    decode_ec(p);
    ok(field("win.eventdata.commandLine") == NULL,
       "20480-byte value makes the XML unreadable");
    free(p);

    /* 1024 nested elements are read, 1025 are not. */
    for (int depth = 1024; depth <= 1025; depth++) {
        size_t size = (size_t)depth * 8 + 256;
        char *q = malloc(size);
        size_t n = 0;

        if (q == NULL)
            abort();
        n += (size_t)sprintf(q, "{\"Event\":\"<Event><System><EventID>"
                                "1</EventID></System>");
        for (int i = 0; i < depth - 1; i++)
            n += (size_t)sprintf(q + n, "<a>");
        for (int i = 0; i < depth - 1; i++)
            n += (size_t)sprintf(q + n, "</a>");
        sprintf(q + n, "</Event>\"}");
        decode_ec(q);
        if (depth == 1024)
            is_str(field("win.system.eventID"), "1",
                   "1024 levels of elements decode");
        else
            ok(field("win.system.eventID") == NULL,
               "1025 levels of elements are unreadable");
        free(q);
    }

    /* 49 attributes are read, 50 are not. */
    for (int count = 49; count <= 50; count++) {
        char q[2048];
        size_t n = (size_t)sprintf(q, "{\"Event\":\"<Event><System><Provider");

        for (int i = 0; i < count; i++)
            n += (size_t)sprintf(q + n, " a%d='%d'", i, i);
        sprintf(q + n, "/><EventID>1</EventID></System></Event>\"}");
        decode_ec(q);
        if (count == 49)
            is_str(field("win.system.eventID"), "1", "49 attributes read");
        else
            ok(field("win.system.eventID") == NULL,
               "50 attributes are unreadable");
    }
}

static void test_forms(void)
{
    is_int(decode_ec("<Event><System><EventID>4624</EventID><Level>0</Level>"
                     "<Keywords>0x8020000000000000</Keywords></System>"
                     "</Event>"),
           0, "bare XML without JSON decodes");
    is_str(ev.full_log,
           "{\"win\":{\"system\":{\"eventID\":\"4624\",\"level\":\"0\","
           "\"keywords\":\"0x8020000000000000\",\"severityValue\":"
           "\"AUDIT_SUCCESS\"}}}",
           "bare XML full_log");

    decode_ec("{\"Event\":\"<A><System><EventID>1</EventID></System></A>"
              "<B><System><EventID>2</EventID></System></B>\"}");
    is_str(field("win.system.eventID"), "1", "only the first root is read");
    is_int((long)ev.field_count, 1, "second root adds nothing");

    decode_ec("{\"Event\":\"<Event><System><EventID>1</EventID></System>"
              "</Event><B></C>\"}");
    ok(field("win.system.eventID") == NULL,
       "a broken second root makes the XML unreadable");

    decode_ec("{\"Event\":\"<Event><EventData><Data Name='N'>pre<b>x</b>"
              "post</Data><!-- c --><Data Name='M'>a<!-- c -->b</Data>"
              "</EventData></Event>\"}");
    is_str(field("win.eventdata.n"), "post", "text after the last child");
    is_str(field("win.eventdata.m"), "ab", "comments are skipped");

    decode_ec("{\"Event\":\"<?xml version='1.0'?><Event><System><EventID>1"
              "</EventID></System></Event>\"}");
    ok(field("win.system.eventID") == NULL, "XML declaration unreadable");

    decode_ec("{\"Event\":\"<Event><System><EventID>1</EventID></System>"
              "<EventData><Data Name='a>b'>x</Data></EventData></Event>\"}");
    ok(field("win.system.eventID") == NULL,
       "'>' in an attribute value is unreadable");
    decode_ec("{\"Event\":\"<Event><System><Provider Name='a&gt;b'/>"
              "</System></Event>\"}");
    is_str(field("win.system.providerName"), "a&gt;b",
           "escaped '>' in an attribute is kept");

    decode_ec("{\"Event\":\"<Event><System><Channel>Security</Channel>"
              "</System><EventData><Data Name='CategoryId'>%%8277</Data>"
              "<Data Name='SubcategoryId'>%%13568</Data></EventData>"
              "</Event>\"}");
    ok(field("win.eventdata.category") == NULL,
       "category needs Level and Keywords");

    decode_ec("{\"Event\":\"<Event><System><Level>0</Level><Keywords>0x0"
              "</Keywords></System><EventData><Data Name='CategoryId'>"
              "%%8280</Data><Data Name='SubcategoryId'>%%14339</Data>"
              "<Data Name='AuditPolicyChanges'>%%8448, %%8450, x, %%8451, "
              "%%8449</Data></EventData></Event>\"}");
    is_str(field("win.eventdata.category"), "Account Logon", "category");
    is_str(field("win.eventdata.subcategory"),
           "Kerberos Authentication Service", "subcategory");
    is_str(field("win.eventdata.auditPolicyChanges"),
           "Success removed, Failure removed, Failure added",
           "audit policy changes: at most four pieces");
}

int main(void)
{
    char err[256];

    if (wl_decoders_new(&decoders, err, sizeof(err)) < 0 ||
        (scratch = wl_decode_scratch_new()) == NULL ||
        wl_event_init(&ev, NULL) < 0) {
        printf("Bail out! %s\n", err);
        return 1;
    }
    test_predecode();
    test_json_decoder();
    test_data_json();
    test_data_from_full_log();
    test_slots();
    test_malformed();
    test_limits();
    test_forms();
    wl_event_free(&ev);
    wl_decode_scratch_free(scratch);
    wl_decoders_free(decoders);
    return tap_done();
}
