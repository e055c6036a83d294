/* Named, read-only snapshots of ODS instances (integration.md §1.7): the
 * registry in the deployment's admin store. A snapshot of instance I
 * named N is the SQLite file I.dir/snapshots/N.sqlite, a point-in-time
 * copy (store_snapshot). The API serves the newest with "Use-Snapshot:
 * true" (ODS/API 7.x) and any with "Snapshot-Identifier: N" (5.x/6.x);
 * a removed snapshot stays registered as retired, so asking for it
 * answers 410 Gone rather than 404. */
#ifndef EDHUB_SNAPSHOTS_H
#define EDHUB_SNAPSHOTS_H
#include "../base/err.h"
#include "../store/admin.h"
#include "instances.h"
#include <stdbool.h>
#include <stdint.h>

#define SNAP_NAME_MAX 64

typedef struct snapshot_def {
    char instance[INST_NAME_MAX + 1];
    char name[SNAP_NAME_MAX + 1];
    char id[37];                  /* a UUID, for /changeQueries/v1/snapshots */
    char created[21];             /* yyyy-MM-ddTHH:mm:ssZ */
    int64_t change_version;       /* the newest change version it holds */
    bool retired;
} snapshot_def;

/* 1-64 letters, digits, '-', '_' and '.', not starting with '.'. */
bool snapshot_name_ok(const char *name);
/* Where snapshot name of an instance whose data is in inst_dir lives, for
 * store_open: inst_dir/snapshots/NAME.sqlite, or the PostgreSQL database
 * its private inst_dir/snapshots/NAME.conf names ("database = URL"). */
void snapshot_location(const char *inst_dir, const char *name, char *out, size_t n);
/* Records a PostgreSQL snapshot's URL in that file (mode 0600). */
bool snapshot_save_location(const char *inst_dir, const char *name, const char *url);
/* The snapshots of an instance (NULL: of every instance), oldest first;
 * retired ones too. *out is malloc'ed. */
err_t snapshots_list(admin_store *a, const char *instance, snapshot_def **out, int *n);
/* One snapshot; ERR_NOT_FOUND when never registered. */
err_t snapshots_get(admin_store *a, const char *instance, const char *name, snapshot_def *out);
/* The newest live snapshot of an instance; ERR_NOT_FOUND when none. */
err_t snapshots_newest(admin_store *a, const char *instance, snapshot_def *out);
/* Registers a new snapshot (audited). */
err_t snapshots_add(admin_store *a, const snapshot_def *d, const char *actor, char *msg, size_t msglen);
/* Marks it retired (audited). */
err_t snapshots_retire(admin_store *a, const char *instance, const char *name, const char *actor, char *msg,
                       size_t msglen);

#endif
