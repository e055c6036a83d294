/* edhub snapshot: named, read-only snapshots of an instance. */
#include "../base/timefmt.h"
#include "../base/uuid.h"
#include "../deploy/snapshots.h"
#include "../model/model.h"
#include "../store/store.h"
#include "cli.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *usage_snapshot =
    "usage: edhub snapshot <action> --data DIR [--instance NAME] [options]\n"
    "\n"
    "  create  [--name NAME]   a point-in-time copy of the instance (default name: today's date,\n"
    "          yyyy-MM-dd), taken while the server runs and writes go on\n"
    "  list    the instance's snapshots (every instance's without --instance), --json\n"
    "  remove  --name NAME     deletes its file; the name stays retired (API: 410 Gone)\n"
    "\n"
    "--instance NAME is an instance of the deployment in DIR (default: the instance 'default').\n"
    "Snapshots are read-only: clients read one with the header 'Use-Snapshot: true' (the newest;\n"
    "Ed-Fi ODS/API 7.x) or 'Snapshot-Identifier: NAME' (a named one; GET\n"
    "/changeQueries/v1/snapshots lists them); a write that carries either header is refused (405).\n"
    "A snapshot of a SQLite instance is a file in its directory (snapshots/NAME.sqlite, made with\n"
    "VACUUM INTO); of a PostgreSQL instance, a new database on the same server (SOURCEDB_snap_NAME,\n"
    "made with pg_dump into psql; the edhub user needs CREATEDB), named in snapshots/NAME.conf.\n";

typedef struct sopts {
    const char *data, *instance, *name;
    bool json;
} sopts;

static int parse(int argc, char **argv, sopts *o)
{
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_snapshot, stdout);
            return 1;
        }
        if (!strcmp(a, "--data")) slot = &o->data;
        else if (!strcmp(a, "--instance")) slot = &o->instance;
        else if (!strcmp(a, "--name")) slot = &o->name;
        else if (!strcmp(a, "--json")) o->json = true;
        else {
            fprintf(stderr, "edhub: unknown option '%s'\n\n%s", a, usage_snapshot);
            return 2;
        }
        if (slot && cli_option_value(argc, argv, &i, slot)) return 2;
    }
    return cli_require_data(o->data, usage_snapshot);
}

static int create(admin_store *a, const instance_def *inst, const sopts *o)
{
    snapshot_def d = {0};
    char at[21];
    time_now_iso(at);
    snprintf(d.instance, sizeof d.instance, "%s", inst->name);
    snprintf(d.created, sizeof d.created, "%s", at);
    if (o->name) snprintf(d.name, sizeof d.name, "%s", o->name);
    else snprintf(d.name, sizeof d.name, "%.10s", at);
    if (!snapshot_name_ok(d.name)) {
        fprintf(stderr, "edhub: '%s' cannot be a snapshot name (1-%d letters, digits, '-', '_' or '.')\n", d.name,
                SNAP_NAME_MAX);
        return 2;
    }
    snapshot_def old;
    if (snapshots_get(a, inst->name, d.name, &old) == ERR_OK) {
        fprintf(stderr, "edhub: instance %s already has a snapshot named '%s'%s (choose another --name)\n", inst->name,
                d.name, old.retired ? " (retired: names are never reused)" : "");
        return 2;
    }
    char loc[PATH_MAX], dir[PATH_MAX], where[PATH_MAX + 80], err[512], msg[512];
    if (!cli_instance_location(inst->dir, loc, sizeof loc)) {
        fprintf(stderr, "edhub: the instance %s has no data in %s\n", inst->name, inst->dir);
        return 1;
    }
    snprintf(dir, sizeof dir, "%s/snapshots", inst->dir);
    if (mkdir(dir, 0755) && errno != EEXIST) {
        fprintf(stderr, "edhub: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    model *m = cli_load_model(NULL);
    if (!m) return 1;
    int rc = 1;
    bool pg = !strncmp(loc, "postgres", 8);
    store *s = cli_open_store_ro(inst->dir, NULL, 1, m, false, false, true), *copy = NULL;
    if (!s) goto out;
    fprintf(stderr, "edhub: copying instance %s (%s) ...\n", inst->name, pg ? "pg_dump into a new database" : "VACUUM INTO");
    err_t e = store_snapshot(s, dir, d.name, where, sizeof where, err, sizeof err);
    if (e) {
        fprintf(stderr, "edhub: %s\n", err);
        goto out;
    }
    if (pg && !snapshot_save_location(inst->dir, d.name, where)) {
        fprintf(stderr, "edhub: cannot write %s/%s.conf: %s\n", dir, d.name, strerror(errno));
        store_snapshot_drop(s, where, err, sizeof err);
        goto out;
    }
    /* Opening the copy proves it whole, and says which changes it holds. */
    store_opts so = {.readers = 1, .read_only = true};
    if (store_open(where, &so, &copy, err, sizeof err) || store_newest_change_version(copy, &d.change_version)) {
        fprintf(stderr, "edhub: the copy cannot be read: %s\n", err);
        store_close(copy);
        copy = NULL;
        store_snapshot_drop(s, where, err, sizeof err);
        goto out;
    }
    uuid_t16 u;
    uuid_v4(&u);
    uuid_format(&u, d.id);
    store_close(copy);
    copy = NULL;
    if ((e = snapshots_add(a, &d, cli_actor(), msg, sizeof msg))) {
        fprintf(stderr, "edhub: %s\n", msg);
        store_snapshot_drop(s, where, err, sizeof err);
        goto out;
    }
    struct stat st;
    if (pg) printf("edhub: snapshot %s of instance %s taken (change version %lld) in a new database\n", d.name, inst->name,
                   (long long)d.change_version);
    else printf("edhub: snapshot %s of instance %s taken (change version %lld, %.1f MB): %s\n", d.name, inst->name,
                (long long)d.change_version, stat(where, &st) ? 0.0 : (double)st.st_size / 1e6, where);
    rc = 0;
out:
    store_close(copy);
    store_close(s);
    model_free(m);
    return rc;
}

static int list(admin_store *a, const sopts *o, const char *instance)
{
    snapshot_def *all = NULL;
    int n = 0;
    if (snapshots_list(a, instance, &all, &n)) {
        fprintf(stderr, "edhub: cannot read the snapshot registry\n");
        return 1;
    }
    if (o->json) putchar('[');
    for (int i = 0; i < n; i++) {
        if (o->json)
            printf("%s{\"instance\":\"%s\",\"name\":\"%s\",\"id\":\"%s\",\"createdAt\":\"%s\",\"changeVersion\":%lld,"
                   "\"retired\":%s}", i ? "," : "", all[i].instance, all[i].name, all[i].id, all[i].created,
                   (long long)all[i].change_version, all[i].retired ? "true" : "false");
        else
            printf("%-20s %-24s created %s  change version %-10lld%s\n", all[i].instance, all[i].name, all[i].created,
                   (long long)all[i].change_version, all[i].retired ? "  (retired)" : "");
    }
    if (o->json) puts("]");
    free(all);
    return 0;
}

/* Deletes a snapshot's copy (its file, or its database and the .conf
 * naming it); 0, or 1 with the reason in err. */
static int drop_copy(const instance_def *inst, const char *name, char *err, size_t errlen)
{
    char where[PATH_MAX + 80], conf[PATH_MAX + 80];
    snapshot_location(inst->dir, name, where, sizeof where);
    model *m = cli_load_model(NULL);
    store *s = m ? cli_open_store_ro(inst->dir, NULL, 1, m, false, false, true) : NULL;
    err_t e = s ? store_snapshot_drop(s, where, err, errlen) : ERR_STORAGE;
    if (!s) snprintf(err, errlen, "cannot open the instance %s", inst->name);
    store_close(s);
    model_free(m);
    snprintf(conf, sizeof conf, "%s/snapshots/%s.conf", inst->dir, name);
    if (!e && unlink(conf) && errno != ENOENT) {
        snprintf(err, errlen, "cannot delete %.400s: %s", conf, strerror(errno));
        e = ERR_IO;
    }
    return e ? 1 : 0;
}

int cmd_snapshot(int argc, char **argv)
{
    const char *act = argc > 2 ? argv[2] : "";
    if (!*act || !strcmp(act, "--help") || !strcmp(act, "-h")) {
        fputs(usage_snapshot, *act ? stdout : stderr);
        return *act ? 0 : 2;
    }
    sopts o = {0};
    int rc = parse(argc, argv, &o);
    if (rc) return rc == 1 ? 0 : rc;
    if (strcmp(act, "create") && strcmp(act, "list") && strcmp(act, "remove")) {
        fprintf(stderr, "edhub: unknown action '%s'\n\n%s", act, usage_snapshot);
        return 2;
    }
    if (!strcmp(act, "remove") && !o.name) {
        fprintf(stderr, "edhub: name the snapshot to remove: --name NAME (see: edhub snapshot list)\n");
        return 2;
    }
    admin_store *a = cli_open_admin(o.data);
    if (!a) return 1;
    instance_def inst;
    const char *iname = o.instance ? o.instance : INST_DEFAULT;
    char msg[512];
    if (!strcmp(act, "list")) rc = list(a, &o, o.instance);
    else if (instances_get(a, o.data, iname, &inst)) {
        fprintf(stderr, "edhub: no instance named '%s' (see: edhub instances list --data %s)\n", iname, o.data);
        rc = 2;
    } else if (!strcmp(act, "create")) rc = create(a, &inst, &o);
    else if (snapshots_retire(a, inst.name, o.name, cli_actor(), msg, sizeof msg)) {
        fprintf(stderr, "edhub: %s\n", msg);
        rc = 2;
    } else {
        char err[512];
        rc = drop_copy(&inst, o.name, err, sizeof err);
        if (rc) fprintf(stderr, "edhub: the snapshot is retired, but its copy could not be deleted: %s\n", err);
        printf("edhub: snapshot %s of instance %s removed (a running server stops serving it at once)\n", o.name, inst.name);
    }
    admin_close(a);
    return rc;
}
