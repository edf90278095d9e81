/* Unit tests of the pass-through analysis stage. */
#include "config.h"

#include "daemon/analysis.h"
#include "daemon/error.h"
#include "tests/tap.h"

#include <string.h>

static struct wl_message *make_message(const char *text)
{
    struct wl_message *msg = wl_message_new(text, strlen(text));

    snprintf(msg->agent_id, sizeof(msg->agent_id), "001");
    snprintf(msg->agent_name, sizeof(msg->agent_name), "WIN10");
    snprintf(msg->peer_ip, sizeof(msg->peer_ip), "192.0.2.7");
    msg->received.tv_sec = 1796402130; /* 2026-12-04T16:35:30Z */
    msg->received.tv_nsec = 123456789;
    return msg;
}

static void test_logall(void)
{
    struct wl_analysis_options opt = {1, NULL};
    struct wl_analysis *an = NULL;
    struct wl_analysis_worker *w;
    struct wl_message *msg;
    struct wl_record *rec = NULL;
    char err[128];
    const char text[] = "f:[001] (WIN10) any->EventChannel:{\"a\":1}";

    is_int(wl_analysis_new(&opt, &an, err, sizeof(err)), 0, "stage starts");
    w = wl_analysis_worker_new(an);
    msg = make_message(text);
    is_int(wl_analysis_process(w, msg, &rec), 0, "logall: processed");
    ok(rec != NULL && rec->event != NULL, "logall: events row");
    ok(rec != NULL && rec->alert == NULL, "logall: no alert");
    if (rec != NULL && rec->event != NULL) {
        struct wl_event_row *row = rec->event;

        is_str(row->received, "2026-12-04T16:35:30.123Z",
               "logall: received in UTC with milliseconds");
        is_str(row->agent_id, "001", "logall: agent id");
        is_str(row->agent_name, "WIN10", "logall: agent name");
        is_str(row->agent_ip, "192.0.2.7", "logall: agent ip");
        is_str(row->location, "EventChannel", "logall: location");
        is_int(row->message_len, strlen(text), "logall: message length");
        ok(memcmp(row->message, text, strlen(text)) == 0,
           "logall: message as received");
        ok(row->decoder == NULL, "logall: no decoder");
        ok(row->fields_json == NULL, "logall: no fields");
    }
    wl_record_free(rec);
    wl_message_free(msg);
    wl_analysis_worker_free(w);
    wl_analysis_free(an);
}

static void test_no_logall(void)
{
    struct wl_analysis_options opt = {0, NULL};
    struct wl_analysis *an = NULL;
    struct wl_analysis_worker *w;
    struct wl_message *msg = make_message("1:app:line");
    struct wl_record *rec = NULL;
    char err[128];

    wl_analysis_new(&opt, &an, err, sizeof(err));
    w = wl_analysis_worker_new(an);
    is_int(wl_analysis_process(w, msg, &rec), 0, "no logall: processed");
    ok(rec != NULL && rec->event == NULL && rec->alert == NULL,
       "no logall: empty record");
    wl_record_free(rec);
    wl_message_free(msg);
    wl_analysis_worker_free(w);
    wl_analysis_free(an);
}

int main(void)
{
    test_logall();
    test_no_logall();
    return tap_done();
}
