/*
 * The analysis engine with the default ruleset of etc/rules: the record
 * it builds for the database (alert row, archive row) from a Sysmon
 * process-creation event, a silenced event and a dropped message.
 */
#include "config.h"

#include "rules/engine.h"
#include "daemon/error.h"
#include "daemon/log.h"
#include "tests/tap.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "f:[001] (WIN10) 10.0.0.5->EventChannel:"

/* A Sysmon event 1: schtasks.exe /create ... /tr "cmd.exe /c ...". */
#define SCHTASKS_EVENT                                                         \
    PREFIX "{\"Message\":\"\",\"Event\":\"<Event xmlns='http://schemas."       \
           "microsoft.com/win/2004/08/events/event'><System><Provider "        \
           "Name='Microsoft-Windows-Sysmon' Guid='{5770385f-c22a-43e0-bf4c-"   \
           "06f5698ffbd9}'/><EventID>1</EventID><Version>5</Version>"          \
           "<Level>4</Level><Task>1</Task><Opcode>0</Opcode><Keywords>"        \
           "0x8000000000000000</Keywords><TimeCreated SystemTime='2026-12-"    \
           "04T10:00:00.000Z'/><EventRecordID>42</EventRecordID>"              \
           "<Correlation/><Execution ProcessID='2036' ThreadID='3112'/>"       \
           "<Channel>Microsoft-Windows-Sysmon/Operational</Channel>"           \
           "<Computer>WIN10</Computer><Security UserID='S-1-5-18'/>"           \
           "</System><EventData><Data Name='Image'>C:\\\\Windows\\\\"          \
           "System32\\\\schtasks.exe</Data><Data Name='OriginalFileName'>"     \
           "schtasks.exe</Data><Data Name='CommandLine'>schtasks /create "     \
           "/tn Updater /tr \\\"C:\\\\Windows\\\\System32\\\\cmd.exe /c "      \
           "calc.exe\\\" /sc onlogon</Data><Data Name='ParentImage'>"          \
           "C:\\\\Windows\\\\System32\\\\cmd.exe</Data><Data Name="            \
           "'ParentCommandLine'>cmd.exe /c schtasks /create</Data>"            \
           "</EventData></Event>\"}"

/* The same kind of event for notepad.exe: classified, no detection. */
#define NOTEPAD_EVENT                                                          \
    PREFIX "{\"Message\":\"\",\"Event\":\"<Event xmlns='http://schemas."       \
           "microsoft.com/win/2004/08/events/event'><System><Provider "        \
           "Name='Microsoft-Windows-Sysmon'/><EventID>1</EventID>"             \
           "<Level>4</Level><Channel>Microsoft-Windows-Sysmon/Operational"     \
           "</Channel><Computer>WIN10</Computer></System><EventData>"          \
           "<Data Name='Image'>C:\\\\Windows\\\\notepad.exe</Data>"            \
           "</EventData></Event>\"}"

#define NOT_JSON_EVENT PREFIX "this is not JSON"

/* Returns 1 when s looks like 2026-12-04T16:35:30.123Z. */
static int is_utc_time(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";

    if (s == NULL || strlen(s) != strlen(shape))
        return 0;
    for (size_t i = 0; shape[i]; i++) {
        if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
            return 0;
    }
    return 1;
}

static struct wl_engine *start(int logall)
{
    const char *srcdir = getenv("top_srcdir");
    static char dir[1024];
    static const char *dirs[] = {dir, NULL};
    struct wl_engine_options o = {
        .rules = {.rule_dirs = dirs, .log_alert_level = 3},
        .logall = logall,
        .manager_name = "manager",
    };
    struct wl_engine *e = NULL;
    char err[256] = "";

    snprintf(dir, sizeof(dir), "%s/etc/rules", srcdir ? srcdir : ".");
    if (wl_engine_new(&o, &e, err, sizeof(err)) < 0)
        tap_diag("engine: %s", err);
    return e;
}

static int process(struct wl_engine_worker *w, const char *msg,
                   struct wl_record **rec)
{
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    return wl_engine_process(w, msg, strlen(msg), &now, rec, NULL);
}

static void test_alert_row(void)
{
    struct wl_engine *e = start(0);
    struct wl_engine_worker *w = e ? wl_engine_worker_new(e) : NULL;
    struct wl_record *rec = NULL;

    if (!ok(w != NULL, "default ruleset engine starts"))
        return;
    is_int(process(w, SCHTASKS_EVENT, &rec), 0, "schtasks event processed");
    ok(rec != NULL && rec->event == NULL, "no archive row without logall");
    const struct wl_alert_row *a = rec ? rec->alert : NULL;
    if (!ok(a != NULL, "alert row built"))
        goto out;
    is_int(a->rule_id, 100300, "alert rule id");
    is_int(a->level, 12, "alert level");
    is_str(a->description,
           "HIGH: Suspicious Scheduled Task Creation via LOLBin or Writable "
           "Directory (T1053.005)",
           "alert description");
    is_str(a->groups_json, "[\"sysmon\",\" persistence\"]", "alert groups");
    is_str(a->mitre_json, "[\"T1053.005\"]", "alert mitre ids");
    is_str(a->agent_id, "001", "alert agent id");
    is_str(a->agent_name, "WIN10", "alert agent name");
    is_str(a->agent_ip, "10.0.0.5", "alert agent ip");
    is_str(a->location, "(WIN10) 10.0.0.5->EventChannel", "alert location");
    is_str(a->decoder, "windows_eventchannel", "alert decoder");
    ok(is_utc_time(a->timestamp), "alert timestamp is UTC with ms (%s)",
       a->timestamp ? a->timestamp : "(null)");
    ok(a->full_log != NULL && strncmp(a->full_log, "{\"win\":", 7) == 0,
       "alert full_log is the rebuilt JSON");
    ok(a->fields_json != NULL &&
           strncmp(a->fields_json, "{\"win\":{\"system\":", 17) == 0,
       "alert fields are the data object");
    cJSON *doc = cJSON_Parse(a->alert_json ? a->alert_json : "");
    cJSON *rule = cJSON_GetObjectItem(doc, "rule");
    is_str(cJSON_GetStringValue(cJSON_GetObjectItem(rule, "id")), "100300",
           "alert JSON rule id");
    is_int(cJSON_GetObjectItem(rule, "firedtimes")
               ? cJSON_GetObjectItem(rule, "firedtimes")->valueint
               : -1,
           1, "alert JSON firedtimes");
    ok(cJSON_IsTrue(cJSON_GetObjectItem(rule, "mail")),
       "level 12 alert is mailed (email_alert_level 12)");
    is_str(cJSON_GetStringValue(cJSON_GetObjectItem(
               cJSON_GetObjectItem(doc, "manager"), "name")),
           "manager", "alert JSON manager name");
    cJSON_Delete(doc);
    wl_record_free(rec);
    rec = NULL;
    is_int(process(w, SCHTASKS_EVENT, &rec), 0, "second event processed");
    ok(rec != NULL && rec->alert != NULL &&
           strstr(rec->alert->alert_json, "\"firedtimes\":2,") != NULL,
       "firedtimes counts the second alert");
out:
    wl_record_free(rec);
    wl_engine_worker_free(w);
    wl_engine_free(e);
}

static void test_archive_rows(void)
{
    struct wl_engine *e = start(1);
    struct wl_engine_worker *w = e ? wl_engine_worker_new(e) : NULL;
    struct wl_record *rec = NULL;

    if (!ok(w != NULL, "logall engine starts"))
        return;
    is_int(process(w, NOTEPAD_EVENT, &rec), 0, "silenced event processed");
    ok(rec != NULL && rec->alert == NULL, "level-0 verdict: no alert row");
    const struct wl_event_row *ev = rec ? rec->event : NULL;
    if (ok(ev != NULL, "archive row built with logall")) {
        ok(ev->message_len == strlen(NOTEPAD_EVENT) &&
               memcmp(ev->message, NOTEPAD_EVENT, ev->message_len) == 0,
           "archive row keeps the message as received");
        is_str(ev->decoder, "windows_eventchannel", "archive decoder");
        is_str(ev->agent_id, "001", "archive agent id");
        ok(is_utc_time(ev->received), "archive time is UTC with ms");
        ok(ev->fields_json != NULL &&
               strstr(ev->fields_json, "notepad.exe") != NULL,
           "archive fields hold the event data");
    }
    wl_record_free(rec);
    rec = NULL;

    const struct wl_decode_stats *before = wl_engine_worker_stats(w);
    unsigned long dropped = before->dropped_json;
    is_int(process(w, NOT_JSON_EVENT, &rec), WL_EINVAL,
           "message the decoder drops returns WL_EINVAL");
    ok(rec == NULL, "dropped message gives no record");
    is_int(wl_engine_worker_stats(w)->dropped_json, dropped + 1,
           "dropped message is counted");
    wl_engine_worker_free(w);
    wl_engine_free(e);
}

int main(void)
{
    wl_log_init("test-rules-engine", WL_LOG_ERROR);
    test_alert_row();
    test_archive_rows();
    return tap_done();
}
