#include "daemon/error.h"

const char *wl_strerror(int code)
{
    switch (code) {
    case WL_OK:
        return "success";
    case WL_EINTERNAL:
        return "internal error";
    case WL_ENOMEM:
        return "out of memory";
    case WL_EINVAL:
        return "invalid argument or input";
    case WL_ENOENT:
        return "not found";
    case WL_EIO:
        return "input/output error";
    case WL_ERANGE:
        return "value out of range";
    case WL_EEXIST:
        return "already exists";
    case WL_EBUSY:
        return "resource busy";
    case WL_EAGAIN:
        return "try again";
    case WL_ETLS:
        return "TLS error";
    case WL_EDB:
        return "database error";
    case WL_EPARSE:
        return "parse error";
    case WL_EUNSUPPORTED:
        return "not supported";
    case WL_EAUTH:
        return "authentication failed";
    }
    return "unknown error";
}
