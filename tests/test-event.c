/* Unit tests of the event model: arena, field registry, field lookup. */
#include "config.h"

#include "decoders/event.h"
#include "daemon/error.h"
#include "tests/tap.h"

static void test_fieldnames(void)
{
    struct wl_fieldnames *names = wl_fieldnames_new();
    int a = wl_fieldnames_add(names, "win.eventdata.image", 19);
    int b = wl_fieldnames_add(names, "WIN.EventData.Image", 19);
    int c = wl_fieldnames_add(names, "win.system.eventID", 18);

    is_int(a, 0, "first name gets slot 0");
    is_int(b, a, "names differing in case share a slot");
    is_int(c, 1, "second name gets slot 1");
    is_int(wl_fieldnames_find(names, "win.system.eventid", 18), 1,
           "find is case-insensitive");
    is_int(wl_fieldnames_find(names, "nope", 4), -1, "unknown name is -1");

    for (int i = 0; i < 500; i++) {
        char name[32];
        int n = snprintf(name, sizeof(name), "field.%d", i);

        wl_fieldnames_add(names, name, (size_t)n);
    }
    is_int(wl_fieldnames_count(names), 502, "table grows past 500 names");
    is_int(wl_fieldnames_find(names, "field.377", 9), 379,
           "name added before growth is still found");
    wl_fieldnames_freeze(names);
    is_int(wl_fieldnames_add(names, "late", 4), WL_EBUSY,
           "frozen registry rejects new names");
    wl_fieldnames_free(names);
}

static void test_event_fields(void)
{
    struct wl_fieldnames *names = wl_fieldnames_new();
    int slot = wl_fieldnames_add(names, "win.eventdata.image", 19);
    struct wl_event ev;

    wl_fieldnames_freeze(names);
    is_int(wl_event_init(&ev, names), 0, "event init");
    wl_event_add_field(&ev, "win.system.eventID", 18, "1", 1);
    wl_event_add_field(&ev, "win.eventdata.Image", 19, "a.exe", 5);
    wl_event_add_field(&ev, "win.eventdata.image", 19, "b.exe", 5);

    const struct wl_field *f = wl_event_field_by_slot(&ev, slot);
    ok(f != NULL, "field found by slot");
    is_str(f ? f->value : NULL, "a.exe", "slot returns the first field");
    f = wl_event_field_by_name(&ev, "WIN.SYSTEM.EVENTID");
    is_str(f ? f->value : NULL, "1", "lookup by name ignores case");
    ok(wl_event_field_by_name(&ev, "win.x") == NULL, "missing name is NULL");

    wl_event_reset(&ev);
    ok(wl_event_field_by_slot(&ev, slot) == NULL, "reset clears slots");
    for (int i = 0; i < WL_EVENT_MAX_FIELDS + 3; i++)
        wl_event_add_field(&ev, "x", 1, "v", 1);
    is_int(ev.field_count, WL_EVENT_MAX_FIELDS, "field count is capped");
    is_int(ev.fields_dropped, 3, "fields over the cap are counted");
    wl_event_free(&ev);
    wl_fieldnames_free(names);
}

static void test_arena(void)
{
    struct wl_arena arena;

    wl_arena_init(&arena, 64);
    char *big = wl_arena_alloc(&arena, 1000);
    char *small = wl_arena_strndup(&arena, "abcdef", 3);
    ok(big != NULL, "allocation larger than a block");
    is_str(small, "abc", "strndup copies and terminates");
    ok(((uintptr_t)small & 7) == 0, "allocations are 8-byte aligned");
    wl_arena_reset(&arena);
    ok(wl_arena_alloc(&arena, 16) != NULL, "allocation after reset");
    wl_arena_free(&arena);
}

int main(void)
{
    test_fieldnames();
    test_event_fields();
    test_arena();
    return tap_done();
}
