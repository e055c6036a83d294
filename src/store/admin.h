/* The admin store: credentials and security configuration (vendors, API
 * clients) as versioned JSON objects, and the append-only audit log of
 * every change and every failed login. It lives in the instance's database
 * (the SQLite file or the PostgreSQL database), beside but apart from the
 * documents: its own connection and its own short transactions, so the CLI
 * can manage clients while a server is running. No SQL crosses it. */
#ifndef EDHUB_ADMIN_H
#define EDHUB_ADMIN_H
#include "../base/err.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct admin_store admin_store;

/* location: a SQLite file path or a postgresql:// URL. Creates the tables
 * when missing, and moves the API clients of older edhub versions (the
 * instance's "clients" table) into the store once. */
err_t admin_open(const char *location, admin_store **out, char *err, size_t errlen);
void admin_close(admin_store *a);

/* One audit entry. Secrets never go in: callers pass before/after with
 * secret fields removed. */
typedef struct admin_event {
    const char *actor;    /* "cli:user@host", "api:KEY", "token-endpoint" */
    const char *action;   /* "client.create", "client.disable", "login.failed", ... */
    const char *target;   /* "client:KEY", "vendor:NAME" */
    const char *before;   /* JSON text or NULL */
    const char *after;    /* JSON text or NULL */
    const char *address;  /* source address, or NULL */
} admin_event;

/* The object (kind, name): *body is malloc'ed JSON text, *version counts
 * its writes (from 1). ERR_NOT_FOUND when absent. */
err_t admin_get(admin_store *a, const char *kind, const char *name, char **body, int64_t *version);
/* Every object of a kind as a JSON array text of bodies, ordered by name
 * (malloc'ed). */
err_t admin_list(admin_store *a, const char *kind, char **json_array);
/* Writes the object (body NULL: deletes it) when its version is still
 * expect (0: it must not exist yet; -1: any), and appends ev to the audit
 * log in the same transaction. ERR_CONFLICT when the version moved on (or
 * it exists, for expect 0), ERR_NOT_FOUND when deleting nothing. */
err_t admin_put(admin_store *a, const char *kind, const char *name, const char *body, int64_t expect,
                const admin_event *ev, int64_t *new_version);
/* Appends an event that changes nothing (a failed login). */
err_t admin_record(admin_store *a, const admin_event *ev);

/* Audit entries with seq > after, oldest first, at most limit, as a JSON
 * array text (malloc'ed): seq, at, actor, action, target, address, before,
 * after, hash. */
err_t admin_audit(admin_store *a, int64_t after, int limit, char **json_array);
/* Recomputes the hash chain; *bad_seq is the first entry whose hash does not
 * match (0 when the whole log is intact), *count the entries checked. */
err_t admin_audit_verify(admin_store *a, int64_t *bad_seq, int64_t *count);

#endif
