/* Error codes shared by every module: functions return 0 or a negative WL_E*.
 */
#ifndef WL_ERROR_H
#define WL_ERROR_H

enum {
    WL_OK = 0,
    WL_EINTERNAL = -1,     /* a bug: an invariant did not hold */
    WL_ENOMEM = -2,        /* allocation failed */
    WL_EINVAL = -3,        /* invalid argument or malformed input */
    WL_ENOENT = -4,        /* file, key or item not found */
    WL_EIO = -5,           /* read, write or system call failed; see errno */
    WL_ERANGE = -6,        /* value or length out of the allowed range */
    WL_EEXIST = -7,        /* item already exists */
    WL_EBUSY = -8,         /* resource held by another process or thread */
    WL_EAGAIN = -9,        /* try again later (queue full, partial input) */
    WL_ETLS = -10,         /* TLS handshake or record failure */
    WL_EDB = -11,          /* SQLite returned an error */
    WL_EPARSE = -12,       /* XML, JSON or configuration could not be parsed */
    WL_EUNSUPPORTED = -13, /* known but not implemented */
    WL_EAUTH = -14,        /* authentication or key check failed */
};

/* Returns a static English description of a WL_E* code. */
const char *wl_strerror(int code);

#endif
