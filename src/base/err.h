/* The one error enum used across edhub. Each value maps to one kind of
 * client-visible outcome so that the API layer can turn it into a status. */
#ifndef EDHUB_ERR_H
#define EDHUB_ERR_H

typedef enum {
    ERR_OK = 0,
    ERR_NOMEM,          /* allocation failed */
    ERR_IO,             /* file or socket error */
    ERR_STORAGE,        /* database error that is not the client's fault */
    ERR_INVALID,        /* client input failed validation (400) */
    ERR_NOT_FOUND,      /* no such item (404) */
    ERR_CONFLICT,       /* unresolved reference / dependent item (409) */
    ERR_IDENTITY_CONFLICT, /* natural key already used by another item (409) */
    ERR_PRECONDITION,   /* If-Match / If-None-Match failed (412) */
    ERR_TOO_LARGE,      /* input over a configured limit (413) */
    ERR_CONFIG,         /* bad configuration or command line */
    ERR_UNAVAILABLE,    /* shutting down (503) */
    ERR_RETRY,          /* transient storage failure (deadlock, lock timeout, lost connection): run again */
    ERR_LIMIT,          /* a quota is reached, e.g. live tokens per client (429) */
    ERR_THROTTLED,      /* too many failed attempts: retry later (429 with Retry-After) */
    ERR_FORBIDDEN,      /* the client may not do this (403) */
} err_t;

const char *err_name(err_t e);

#endif
