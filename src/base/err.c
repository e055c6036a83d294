#include "err.h"

const char *err_name(err_t e)
{
    switch (e) {
    case ERR_OK: return "ok";
    case ERR_NOMEM: return "out of memory";
    case ERR_IO: return "I/O error";
    case ERR_STORAGE: return "storage error";
    case ERR_INVALID: return "invalid input";
    case ERR_NOT_FOUND: return "not found";
    case ERR_CONFLICT: return "conflict";
    case ERR_IDENTITY_CONFLICT: return "identity conflict";
    case ERR_PRECONDITION: return "precondition failed";
    case ERR_TOO_LARGE: return "too large";
    case ERR_CONFIG: return "configuration error";
    case ERR_UNAVAILABLE: return "unavailable";
    case ERR_RETRY: return "retry";
    case ERR_LIMIT: return "limit";
    case ERR_THROTTLED: return "throttled";
    case ERR_FORBIDDEN: return "forbidden";
    }
    return "unknown error";
}
