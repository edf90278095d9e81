/*
 * Control messages of Wazuh 4.x agents: decrypted messages that start
 * with "#!-". remoted never forwards them for analysis. It replies to a
 * startup and each keepalive with "#!-agent ack " (trailing space). A
 * startup whose version is unknown or newer than the manager's gets an
 * error instead. A shutdown gets no reply but one "Agent stopped" event.
 */
#ifndef WL_CONTROL_H
#define WL_CONTROL_H

#include "daemon/keys.h"

#include <stddef.h>

#define WL_CONTROL_HEADER "#!-"
#define WL_CONTROL_ACK "#!-agent ack "
#define WL_CONTROL_VERSION "v4.14.7" /* Wazuh version this manager reports */

enum wl_control_kind {
    WL_CONTROL_EVENT = 0, /* not a control message: forward it */
    WL_CONTROL_STARTUP,   /* "#!-agent startup [json]" */
    WL_CONTROL_SHUTDOWN,  /* exactly "#!-agent shutdown " */
    WL_CONTROL_KEEPALIVE, /* any other "#!-..." with the agent status */
    WL_CONTROL_REQUEST,   /* "#!-req <id> <payload>", a response */
};

/* Agent details from a keepalive, all NUL-terminated, empty if absent. */
struct wl_keepalive {
    char uname[512];      /* the uname part before " - " */
    char version[64];     /* "Wazuh v4.14.7" */
    char config_sum[33];  /* MD5 of the shared agent.conf */
    char merged_sum[33];  /* MD5 of merged.mg, or "x" */
    char agent_ip[64];    /* from the #"_agent_ip": label */
    char labels[1024];    /* other label lines, newline separated */
    char os_name[128];    /* "Microsoft Windows 10 Pro", "Ubuntu" */
    char os_version[64];  /* "10.0.19045", "22.04.4 LTS" */
    char os_codename[64]; /* "Jammy Jellyfish" */
    char os_platform[32]; /* "windows", "ubuntu" */
    char os_major[16];
    char os_minor[16];
    char os_build[32];
    char os_arch[16]; /* "x86_64" */
};

/* Classifies a decrypted message of len bytes. */
enum wl_control_kind wl_control_classify(const char *message, size_t len);

/*
 * Decides the reply to a startup message as remoted 4.14 does. A startup
 * without JSON after "agent startup " (the QA simulator) is accepted. So
 * is JSON whose string "version" is no newer (major.minor) than
 * manager_version. A missing version or a newer one is rejected unless
 * allow_higher is set. Writes the reply message, "#!-agent ack " or
 * "#!-err {...}", to reply (NUL-terminated) and the agent's version, if
 * any, to agent_version. Returns 1 when accepted, 0 when rejected, or
 * WL_EINVAL when reply_size is under 128 bytes.
 */
int wl_control_startup(const char *message, size_t len,
                       const char *manager_version, int allow_higher,
                       char *agent_version, size_t version_size, char *reply,
                       size_t reply_size);

/*
 * Parses a keepalive "#!-<uname> - <version>[ / <sum>]\n[labels]
 * <sum> merged.mg\n" into *ka. Text after the last newline is ignored as
 * remoted ignores it. Returns 0, or WL_EINVAL when the message has no
 * newline (remoted then sends no ack).
 */
int wl_control_parse_keepalive(const char *message, size_t len,
                               struct wl_keepalive *ka);

/*
 * Compares the major and minor numbers of two Wazuh versions such as
 * "v4.14.7" or "4.9"; the patch number is ignored as Wazuh ignores it
 * here. Returns <0, 0 or >0 like strcmp; unparsable parts count as 0.
 */
int wl_control_compare_versions(const char *a, const char *b);

/*
 * Writes the event remoted injects when an agent shuts down,
 * "1:wazuh-remoted:ossec: Agent stopped: '<name>-><ip>'.", ready for
 * wl_secure_forward_line(). Returns its length, or WL_ERANGE.
 */
int wl_control_stopped_event(const struct wl_key_entry *entry, char *out,
                             size_t out_size);

#endif
