/*
 * bench-native: messages per second through the native agent protocol
 * receive path (identify, AES decrypt, inflate, MD5, counters, forward
 * line) on one thread, for a typical Event Channel event of about 1 KB.
 *
 *   bench/bench-native [MESSAGES]      (default 200000)
 */
#include <config.h>

#include "daemon/keys.h"
#include "daemon/log.h"
#include "daemon/native.h"
#include "daemon/secure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    static const char key[] =
        "17c9215c10b920ef5612a768be16727da4c997d1e88e7564f2d11448127c4495";
    static unsigned char payload[WL_SECURE_PAYLOAD_MAX];
    char dir[] = "/tmp/wazlab-bench-native-XXXXXX";
    char path[256], msg[2048], enc_key[WL_KEYS_ENC_LEN + 1];
    struct wl_native_options opt = {0};
    struct wl_native_peer peer = {.connection_id = 0, .ip = "127.0.0.1"};
    struct wl_native *n;
    long count = argc > 1 ? atol(argv[1]) : 200000;
    size_t len = 0;
    double start, elapsed;
    FILE *fp;

    wl_log_init("bench-native", WL_LOG_ERROR);
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof(path), "%s/client.keys", dir);
    fp = fopen(path, "w");
    fprintf(fp, "001 WIN-BENCH any %s\n", key);
    fclose(fp);
    opt.keys_path = path;
    if (wl_native_new(&opt, &n) != 0)
        return 1;
    wl_keys_derive("001", "WIN-BENCH", key, enc_key);
    snprintf(msg, sizeof(msg),
             "f:EventChannel:{\"Message\":\"An account was successfully "
             "logged on.\\r\\n\\r\\nSubject:\\r\\n\\tSecurity ID:\\t\\tS-1-5-18"
             "\\r\\n\\tAccount Name:\\t\\tWIN-BENCH$\\r\\n\\tLogon Type:\\t\\t"
             "3\",\"Event\":\"<Event xmlns='http://schemas.microsoft.com/win/"
             "2004/08/events/event'><System><Provider Name='Microsoft-Windows"
             "-Security-Auditing' Guid='{54849625-5478-4994-a5ba-3e3b0328c30d}"
             "'/><EventID>4624</EventID><Version>2</Version><Level>0</Level>"
             "<Task>12544</Task><Opcode>0</Opcode><Keywords>0x8020000000000000"
             "</Keywords><TimeCreated SystemTime='2026-12-04T16:35:30.1234567Z"
             "'/><EventRecordID>123456</EventRecordID><Channel>Security"
             "</Channel><Computer>WIN-BENCH</Computer></System><EventData>"
             "<Data Name='SubjectUserSid'>S-1-5-18</Data><Data Name='"
             "TargetUserName'>administrator</Data><Data Name='LogonType'>3"
             "</Data><Data Name='IpAddress'>192.0.2.15</Data></EventData>"
             "</Event>\"}");
    wl_secure_encode(WL_SECURE_AES, enc_key, "001", 1234, 0, 1, msg,
                     strlen(msg), payload, sizeof(payload), &len);

    start = now_seconds();
    for (long i = 0; i < count; i++) {
        struct wl_native_result res;

        if (wl_native_handle(n, &peer, payload, len, &res) != 0 ||
            !res.message) {
            fprintf(stderr, "bench-native: message %ld rejected\n", i);
            return 1;
        }
        wl_native_result_clear(&res);
    }
    elapsed = now_seconds() - start;
    printf("native receive path: %ld messages of %zu bytes (%zu on the "
           "wire) in %.2f s: %.0f messages/s on one thread\n",
           count, strlen(msg), len + 4, elapsed, (double)count / elapsed);

    wl_native_free(n);
    unlink(path);
    rmdir(dir);
    wl_secure_cleanup();
    return 0;
}
