/* The snapshot registry (see snapshots.h). */
#include "snapshots.h"
#include "../base/conf.h"
#include "../base/jsonx.h"
#include <fcntl.h>
#include <unistd.h>
#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool snapshot_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n < 1 || n > SNAP_NAME_MAX || name[0] == '.') return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("-_.", *p)) return false;
    return true;
}

void snapshot_location(const char *inst_dir, const char *name, char *out, size_t n)
{
    char conf[1200];
    snprintf(conf, sizeof conf, "%s/snapshots/%s.conf", inst_dir, name);
    if (!conf_get(conf, "database", out, n)) snprintf(out, n, "%s/snapshots/%s.sqlite", inst_dir, name);
}

bool snapshot_save_location(const char *inst_dir, const char *name, const char *url)
{
    char conf[1200];
    snprintf(conf, sizeof conf, "%s/snapshots/%s.conf", inst_dir, name);
    int fd = open(conf, O_WRONLY | O_CREAT | O_TRUNC, 0600); /* the URL may carry a password */
    if (fd < 0) return false;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return false;
    }
    fprintf(f, "# edhub snapshot %s\ndatabase = %s\n", name, url);
    return fclose(f) == 0;
}

/* Registry key: "instance/name", the instance lower-case (its names
 * compare case-insensitively); snapshot names are exact. */
static void reg_key(const char *instance, const char *name, char *out, size_t n)
{
    size_t i = 0;
    for (; instance[i] && i + 1 < n; i++) out[i] = (char)tolower((unsigned char)instance[i]);
    snprintf(out + i, n - i, "/%s", name);
}

static void from_json(json_object *o, snapshot_def *d)
{
    memset(d, 0, sizeof *d);
    snprintf(d->instance, sizeof d->instance, "%s", jsonx_str(o, "instance") ? jsonx_str(o, "instance") : "");
    snprintf(d->name, sizeof d->name, "%s", jsonx_str(o, "name") ? jsonx_str(o, "name") : "");
    snprintf(d->id, sizeof d->id, "%s", jsonx_str(o, "id") ? jsonx_str(o, "id") : "");
    snprintf(d->created, sizeof d->created, "%s", jsonx_str(o, "createdAt") ? jsonx_str(o, "createdAt") : "");
    d->change_version = json_object_get_int64(jsonx_get(o, "changeVersion"));
    d->retired = jsonx_bool(o, "retired");
}

static char *to_json(const snapshot_def *d)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "instance", json_object_new_string(d->instance));
    json_object_object_add(o, "name", json_object_new_string(d->name));
    json_object_object_add(o, "id", json_object_new_string(d->id));
    json_object_object_add(o, "createdAt", json_object_new_string(d->created));
    json_object_object_add(o, "changeVersion", json_object_new_int64(d->change_version));
    json_object_object_add(o, "retired", json_object_new_boolean(d->retired));
    char *t = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return t;
}

static int by_created(const void *a, const void *b)
{
    const snapshot_def *x = a, *y = b;
    int c = strcmp(x->created, y->created);
    return c ? c : strcmp(x->name, y->name);
}

err_t snapshots_list(admin_store *a, const char *instance, snapshot_def **out, int *n)
{
    *out = NULL;
    *n = 0;
    char *text = NULL;
    err_t e = admin_list(a, "snapshot", &text);
    if (e) return e;
    json_object *arr = json_tokener_parse(text);
    free(text);
    size_t k = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
    snapshot_def *v = calloc(k + 1, sizeof *v);
    if (!v) {
        json_object_put(arr);
        return ERR_NOMEM;
    }
    int m = 0;
    for (size_t i = 0; i < k; i++) {
        from_json(json_object_array_get_idx(arr, i), &v[m]);
        if (!instance || !strcasecmp(v[m].instance, instance)) m++;
    }
    json_object_put(arr);
    qsort(v, (size_t)m, sizeof *v, by_created);
    *out = v;
    *n = m;
    return ERR_OK;
}

err_t snapshots_get(admin_store *a, const char *instance, const char *name, snapshot_def *out)
{
    if (!snapshot_name_ok(name)) return ERR_NOT_FOUND;
    char key[INST_NAME_MAX + SNAP_NAME_MAX + 2], *body = NULL;
    reg_key(instance, name, key, sizeof key);
    err_t e = admin_get(a, "snapshot", key, &body, NULL);
    if (e) return e;
    json_object *o = json_tokener_parse(body);
    free(body);
    if (!o) return ERR_STORAGE;
    from_json(o, out);
    json_object_put(o);
    return ERR_OK;
}

err_t snapshots_newest(admin_store *a, const char *instance, snapshot_def *out)
{
    snapshot_def *all;
    int n;
    err_t e = snapshots_list(a, instance, &all, &n);
    if (e) return e;
    e = ERR_NOT_FOUND;
    for (int i = n - 1; i >= 0; i--)
        if (!all[i].retired) {
            *out = all[i];
            e = ERR_OK;
            break;
        }
    free(all);
    return e;
}

static err_t put(admin_store *a, const snapshot_def *d, const char *before, int64_t expect, const char *action,
                 const char *actor, char *msg, size_t msglen)
{
    char key[INST_NAME_MAX + SNAP_NAME_MAX + 2], target[INST_NAME_MAX + SNAP_NAME_MAX + 16];
    reg_key(d->instance, d->name, key, sizeof key);
    snprintf(target, sizeof target, "snapshot:%s", key);
    char *after = to_json(d);
    admin_event ev = {.actor = actor, .action = action, .target = target, .before = before, .after = after};
    err_t e = admin_put(a, "snapshot", key, after, expect, &ev, NULL);
    free(after);
    if (e == ERR_CONFLICT) snprintf(msg, msglen, "a snapshot named '%s' of instance %s exists already (names are never reused)",
                                    d->name, d->instance);
    else if (e) snprintf(msg, msglen, "cannot write the snapshot registry: %s", err_name(e));
    return e;
}

err_t snapshots_add(admin_store *a, const snapshot_def *d, const char *actor, char *msg, size_t msglen)
{
    if (!snapshot_name_ok(d->name)) {
        snprintf(msg, msglen, "'%.80s' cannot be a snapshot name (1-%d letters, digits, '-', '_' or '.')", d->name,
                 SNAP_NAME_MAX);
        return ERR_INVALID;
    }
    return put(a, d, NULL, 0, "snapshot.create", actor, msg, msglen);
}

err_t snapshots_retire(admin_store *a, const char *instance, const char *name, const char *actor, char *msg,
                       size_t msglen)
{
    char key[INST_NAME_MAX + SNAP_NAME_MAX + 2], *before = NULL;
    int64_t version = 0;
    reg_key(instance, name, key, sizeof key);
    err_t e = snapshot_name_ok(name) ? admin_get(a, "snapshot", key, &before, &version) : ERR_NOT_FOUND;
    if (e == ERR_NOT_FOUND) snprintf(msg, msglen, "instance %s has no snapshot named '%s' (see: edhub snapshot list)", instance, name);
    if (e) return e;
    json_object *o = json_tokener_parse(before);
    snapshot_def d;
    from_json(o, &d);
    json_object_put(o);
    d.retired = true;
    e = put(a, &d, before, version, "snapshot.retire", actor, msg, msglen);
    free(before);
    return e;
}
