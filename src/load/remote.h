/* Sends loaded records to an Ed-Fi API over HTTP (edhub load --api): any
 * ODS/API 7.x (or edhub itself), with OAuth client credentials, many
 * requests in flight (libcurl multi, HTTP/1.1 keep-alive), and retries.
 *
 *   - URLs come from the API's discovery document (GET URL/: urls.oauth,
 *     urls.dataManagementApi), else URL/oauth/token and URL/data/v3.
 *   - One POST {data}/{project}/{endpoint} per record; when the API is
 *     edhub (its batch endpoint answers), many records per
 *     POST URL/edhub/v1/batch instead (opts.no_batch turns that off).
 *   - 200/201: updated/created. 409 (a reference not there yet), 5xx,
 *     429 and connection errors: sent again once everything else handed
 *     over before the next drain (the end of a dependency level or of a
 *     JSON-lines file) is finished, with exponential backoff (429: after
 *     Retry-After), at most REMOTE_MAX_ATTEMPTS times in all. Other 4xx:
 *     rejected, the server's problem+json in the report.
 *   - 401: the token is renewed (once per token) and the record sent again;
 *     tokens are also renewed before they expire.
 *   - A record that still cannot be sent for connection errors, or a token
 *     the API no longer grants, stops the load (remote_stopped says why).
 * Single-threaded: every call runs on the loader's thread, which also
 * drives the transfers. */
#ifndef EDHUB_REMOTE_H
#define EDHUB_REMOTE_H
#include "../model/model.h"
#include "sink.h"
#include "target.h"
#include <stdbool.h>
#include <stdio.h>

#define REMOTE_MAX_ATTEMPTS 5
#define REMOTE_DEFAULT_CONNECTIONS 8
#define REMOTE_DEFAULT_BATCH 500

typedef struct remote_opts {
    const char *url;          /* the API's base URL (where GET / answers the discovery document) */
    const char *key, *secret; /* OAuth client credentials */
    int connections;          /* requests in flight (0: REMOTE_DEFAULT_CONNECTIONS) */
    int batch_size;           /* records per batch request (0: REMOTE_DEFAULT_BATCH) */
    bool no_batch;            /* one request per record even when the API is edhub */
    FILE *errs;               /* rejected records, one JSON line each (may be NULL; see remote_set_errors) */
    FILE *log;                /* a line saying what was found at URL (may be NULL) */
    /* For messages and the log line (NULL: load's "--api", "--key K --secret
     * S, or ...EDHUB_KEY...", "loading into"). */
    const char *flag, *cred_hint, *verb;
    struct api_token_cache *token_cache; /* shared with other connections (see apiconn.h), or NULL */
} remote_opts;

typedef struct remote remote;

/* Initializes libcurl for the process (once, before any thread starts) and
 * releases it at the end. */
void remote_global_init(void);
void remote_global_cleanup(void);

/* Connects: discovery, token, batch endpoint. NULL with a message saying
 * what to do in err when the URL is bad, the API cannot be reached or
 * refuses the key and secret. Counts go to st. */
remote *remote_open(const model *m, const remote_opts *o, load_stats *st, char *err, size_t errlen);
/* Where rejected records go (instead of opts.errs; may be NULL). */
void remote_set_errors(remote *rm, FILE *errs);
/* The load target that sends to rm. */
void remote_target(remote *rm, load_target *t);
/* The connection (discovery URLs, token) for requests of the caller's
 * own, such as a publisher's GET-by-example, PUT and DELETE. */
struct api_conn;
struct api_conn *remote_conn(remote *rm);
/* Why the load stopped before its end, or NULL; *unsent counts the records
 * not sent because of it. */
const char *remote_stopped(const remote *rm, long *unsent);
/* Waits for everything handed over (with its retries), then frees. */
void remote_close(remote *rm);

#endif
