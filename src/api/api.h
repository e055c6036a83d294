/* The HTTP front door: an Ed-Fi ODS/API 7.3 compatible server over
 * libmicrohttpd (internal epoll, thread pool; writes are suspended while
 * the store's group commit runs, so a few threads serve many writers). */
#ifndef EDHUB_API_H
#define EDHUB_API_H
#include "../auth/auth.h"
#include "../base/err.h"
#include "../deploy/instances.h"
#include "../model/model.h"
#include "../store/store.h"
#include <stdio.h>

typedef struct api_config {
    const char *listen_addr;   /* "127.0.0.1" */
    int port;
    int threads;               /* worker threads (default 4) */
    size_t max_body;           /* bytes (default 4 MiB) */
    FILE *access_log;          /* one line per request, or NULL */
    const char *public_url;    /* base URL clients use (behind a proxy), or NULL: from Host */
    const struct claims *claims; /* the security metadata (claim sets) */
    struct admin_store *admin;   /* credentials (Admin API) */
    const struct profile_set *profiles; /* the API profiles (integration.md §3), or NULL: none */
    bool hide_existence;         /* 404, not 403, for stored items the client may not read or change */
    /* The deployment's instances at start ([0] is the default; the caller
     * keeps owning these stores, and closes them after api_stop) and how a request
     * names one (integration.md §6.2-6.3): an optional tenant segment,
     * then the context segments of the route template, before /data/v3,
     * /oauth, /metadata, /changeQueries. */
    const instance_def *instances;
    store *const *stores;                 /* the store of each instance */
    int ninstances;
    const route_template *route_template; /* NULL or no keys: no context segments */
    const char *tenant;                   /* NULL: single-tenant (no tenant segment) */
    /* The deployment directory and how to open (creating when new) an
     * instance's store: what api_refresh_instances and the Admin API's
     * POST /v2/odsInstances use. NULL: instances are fixed. */
    const char *deploy_dir;
    store *(*open_instance)(const instance_def *d, bool create, void *ctx); /* create: make its data first */
    void *open_ctx;
} api_config;

typedef struct api_server api_server;

err_t api_start(const api_config *cfg, const model *m, auth *au, api_server **out, char *err, size_t errlen);
/* Makes the server route to exactly these instances from now on (after
 * edhub instances create/update/remove): instances already served keep
 * their store; new ones are opened with open(d, false, ctx) (NULL: left out, said
 * by the callback); requests under way finish on the set they began with.
 * *added and *removed count the changes. One reload at a time. */
void api_reload_instances(api_server *srv, const instance_def *defs, int n,
                          store *(*open)(const instance_def *d, bool create, void *ctx), void *ctx, int *added,
                          int *removed);
/* Reads the instance registry and serves what it says (api_reload_instances
 * with cfg.open_instance); false when the registry cannot be read. */
bool api_refresh_instances(api_server *srv, int *added, int *removed);
/* Stops accepting, lets queued writes finish, then stops the server. */
void api_stop(api_server *srv);

#endif
