/*
 * Condition kinds of a rule. Each init function fills a zeroed struct
 * wl_cond and takes ownership of the pattern or string passed to it; the
 * caller sets rank, subject and index.
 */
#ifndef WL_RULES_COND_H
#define WL_RULES_COND_H

#include "rules/rule.h"

/* A pattern tested on the subject; a missing subject fails. */
void wl_cond_init_pattern(struct wl_cond *c, struct wl_pattern *p);
/* Byte-wise equality with text (the default of <action>). */
void wl_cond_init_exact(struct wl_cond *c, char *text, int negate);
/* The event's decoder name equals name. */
void wl_cond_init_decoded_as(struct wl_cond *c, char *name);
/* full_log is at least size bytes long. */
void wl_cond_init_maxsize(struct wl_cond *c, size_t size);
/* Never passes: the rule uses an option not supported yet. */
void wl_cond_init_never(struct wl_cond *c);
/* srcip/dstip: value is an address or CIDR list. 0, WL_EINVAL, WL_ENOMEM. */
int wl_cond_init_ip(struct wl_cond *c, const char *value, int negate, char *err,
                    size_t err_size);
/* Adds one more <srcip>/<dstip> value to an existing IP condition. */
int wl_cond_ip_add(struct wl_cond *c, const char *value, char *err,
                   size_t err_size);
/* <time> and <weekday>. 0 or WL_EINVAL with err set. */
int wl_cond_init_time(struct wl_cond *c, const char *value, char *err,
                      size_t err_size);
int wl_cond_init_weekday(struct wl_cond *c, const char *value, char *err,
                         size_t err_size);

/* Returns the value a condition tests in ev, or NULL when unset. */
const char *wl_cond_subject(const struct wl_cond *c, const struct wl_event *ev,
                            size_t *len);

#endif
