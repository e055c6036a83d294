/* edhub instances: the ODS instances of a deployment (integration.md §6). */
#include "../base/conf.h"
#include "../base/jsonx.h"
#include "../deploy/instances.h"
#include "../model/model.h"
#include "../store/store.h"
#include "cli.h"
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *usage_instances =
    "usage: edhub instances <action> --data DIR [options]\n"
    "\n"
    "  list    every instance: name, type, context values, where its data lives (--json)\n"
    "  create  NAME [--type TEXT] [--context KEY=VALUE]... [--database postgresql://...]\n"
    "          [--bootstrap FILE | --empty]\n"
    "          a new instance in DIR/instances/NAME (its own SQLite file, or the PostgreSQL database\n"
    "          --database names, which must exist and be empty), loaded with the bootstrap set\n"
    "  update  NAME [--type TEXT] [--context KEY=VALUE]... [--clear-context]\n"
    "  remove  NAME [--delete-data]   unregisters it; --delete-data also deletes its SQLite files\n"
    "\n"
    "DIR is the deployment: it holds the API clients and the instance 'default' (created by\n"
    "edhub init). Clients use the instances they are bound to (edhub clients create|update\n"
    "--instance NAME). With a route template in DIR/" CONF_FILE ", e.g.\n"
    "  route_template = {districtId}/{schoolYear:range(2000,2099)}\n"
    "requests carry the context before /data/v3 (/255901/2026/data/v3/ed-fi/students, and the same for\n"
    "/oauth, /metadata, /changeQueries), and each instance needs a --context value for every key; the\n"
    "request goes to the client's instance whose values match (404 when none does). An optional\n"
    "'tenant = NAME' line puts /NAME before everything. A running server notices created, changed and\n"
    "removed instances within seconds (the route template and tenant are read at start).\n";

typedef struct iopts {
    const char *data, *name, *type, *database, *bootstrap;
    const char *ctx[INST_MAX_KEYS];
    int nctx;
    bool empty, clear_context, delete_data, json;
} iopts;

static int parse(int argc, char **argv, iopts *o)
{
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_instances, stdout);
            return 1;
        }
        if (!strcmp(a, "--data")) slot = &o->data;
        else if (!strcmp(a, "--type")) slot = &o->type;
        else if (!strcmp(a, "--database")) slot = &o->database;
        else if (!strcmp(a, "--bootstrap")) slot = &o->bootstrap;
        else if (!strcmp(a, "--empty")) o->empty = true;
        else if (!strcmp(a, "--clear-context")) o->clear_context = true;
        else if (!strcmp(a, "--delete-data")) o->delete_data = true;
        else if (!strcmp(a, "--json")) o->json = true;
        else if (!strcmp(a, "--context")) {
            if (o->nctx == INST_MAX_KEYS) {
                fprintf(stderr, "edhub: at most %d --context values\n", INST_MAX_KEYS);
                return 2;
            }
            slot = &o->ctx[o->nctx++];
        } else if (a[0] != '-' && !o->name) o->name = a;
        else {
            fprintf(stderr, "edhub: unknown option '%s'\n\n%s", a, usage_instances);
            return 2;
        }
        if (slot && cli_option_value(argc, argv, &i, slot)) return 2;
    }
    return cli_require_data(o->data, usage_instances);
}

static void print_list(const instance_def *all, int n, const route_template *t, bool json)
{
    if (json) {
        json_object *arr = json_object_new_array();
        for (int i = 0; i < n; i++) {
            json_object *o = json_object_new_object(), *ctx = json_object_new_object();
            json_object_object_add(o, "name", json_object_new_string(all[i].name));
            json_object_object_add(o, "type", json_object_new_string(all[i].type));
            for (int k = 0; k < all[i].nctx; k++)
                json_object_object_add(ctx, all[i].ctx_key[k], json_object_new_string(all[i].ctx_val[k]));
            json_object_object_add(o, "context", ctx);
            json_object_object_add(o, "dir", json_object_new_string(all[i].dir));
            json_object_array_add(arr, o);
        }
        puts(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(arr);
        return;
    }
    for (int i = 0; i < n; i++) {
        printf("%-24s type: %-10s context: ", all[i].name, all[i].type);
        for (int k = 0; k < all[i].nctx; k++) printf("%s%s=%s", k ? "," : "", all[i].ctx_key[k], all[i].ctx_val[k]);
        printf("%s  data: %s\n", all[i].nctx ? "" : "-", all[i].dir);
        /* An instance without a value for every template key is never chosen. */
        for (int k = 0; k < t->nkeys; k++) {
            bool has = false;
            for (int j = 0; j < all[i].nctx && !has; j++) has = !strcasecmp(all[i].ctx_key[j], t->key[k]);
            if (!has)
                printf("%-24s   (unreachable: no value for route key {%s}; set one with: edhub instances update "
                       "%s --context %s=VALUE)\n", "", t->key[k], all[i].name, t->key[k]);
        }
    }
}

static bool apply_context(instance_def *d, const iopts *o)
{
    char msg[256];
    if (o->clear_context) d->nctx = 0;
    for (int i = 0; i < o->nctx; i++)
        if (!instance_context_add(d, o->ctx[i], msg, sizeof msg)) {
            fprintf(stderr, "edhub: %s\n", msg);
            return false;
        }
    return true;
}

/* Creates the instance's directory and store, with the bootstrap set. */
static int create_data(const instance_def *d, const iopts *o)
{
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s/instances", o->data);
    if ((mkdir(parent, 0755) && errno != EEXIST) || (mkdir(d->dir, 0755) && errno != EEXIST)) {
        fprintf(stderr, "edhub: cannot create %s: %s\n", d->dir, strerror(errno));
        return 1;
    }
    char loc[PATH_MAX];
    if (cli_instance_location(d->dir, loc, sizeof loc)) {
        fprintf(stderr, "edhub: %s already holds data (remove it, or register it under another name)\n", d->dir);
        return 1;
    }
    if (o->database && !cli_write_database_conf(d->dir, o->database)) return 2;
    model *m = cli_load_model(NULL);
    if (!m) return 1;
    store *s = cli_open_store(d->dir, o->database, 2, m, false, true);
    int status = s ? 0 : 1;
    if (s && !o->empty) status = cli_bootstrap(m, s, d->dir, o->bootstrap);
    store_close(s);
    model_free(m);
    return status;
}

static int remove_data(const instance_def *d)
{
    static const char *files[] = {"ods.sqlite", "ods.sqlite-wal", "ods.sqlite-shm", "load-resume.json",
                                  "load-errors.jsonl", "bootstrap-errors.jsonl", CONF_FILE};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", d->dir, files[i]);
        if (unlink(p) && errno != ENOENT) {
            fprintf(stderr, "edhub: cannot delete %s: %s\n", p, strerror(errno));
            return 1;
        }
    }
    if (rmdir(d->dir) && errno != ENOENT)
        fprintf(stderr, "edhub: %s is not empty; its other files were left in place\n", d->dir);
    return 0;
}

int cmd_instances(int argc, char **argv)
{
    const char *act = argc > 2 ? argv[2] : "";
    if (!*act || !strcmp(act, "--help") || !strcmp(act, "-h")) {
        fputs(usage_instances, *act ? stdout : stderr);
        return *act ? 0 : 2;
    }
    iopts o = {0};
    int rc = parse(argc, argv, &o);
    if (rc) return rc == 1 ? 0 : rc;
    bool list = !strcmp(act, "list");
    if (!list && strcmp(act, "create") && strcmp(act, "update") && strcmp(act, "remove")) {
        fprintf(stderr, "edhub: unknown action '%s'\n\n%s", act, usage_instances);
        return 2;
    }
    if (!list && !o.name) {
        fprintf(stderr, "edhub: name the instance: edhub instances %s --data %s NAME\n", act, o.data);
        return 2;
    }
    admin_store *a = cli_open_admin(o.data);
    if (!a) return 1;
    char msg[512] = "", text[512] = "";
    err_t e = ERR_OK;
    instance_def d = {0};
    if (list) {
        route_template t;
        char conf[PATH_MAX];
        snprintf(conf, sizeof conf, "%s/" CONF_FILE, o.data);
        conf_get(conf, "route_template", text, sizeof text);
        if (!route_template_parse(text, &t, msg, sizeof msg)) {
            fprintf(stderr, "edhub: %s: route_template: %s\n", conf, msg);
            memset(&t, 0, sizeof t);
            rc = 1;
        }
        instance_def *all = NULL;
        int n = 0;
        if ((e = instances_list(a, o.data, &all, &n))) {
            fprintf(stderr, "edhub: cannot read the instance registry: %s\n", err_name(e));
            rc = 1;
        } else print_list(all, n, &t, o.json);
        free(all);
    } else if (!strcmp(act, "create")) {
        snprintf(d.name, sizeof d.name, "%s", o.name);
        snprintf(d.type, sizeof d.type, "%s", o.type ? o.type : "");
        if (!instance_name_ok(o.name)) {
            fprintf(stderr, "edhub: '%s' cannot be an instance name (1-%d letters, digits, '-' or '_')\n", o.name,
                    INST_NAME_MAX);
            rc = 2;
        } else if (instances_get(a, o.data, o.name, &d) == ERR_OK) {
            fprintf(stderr, "edhub: an instance named '%s' exists already (see: edhub instances list)\n", o.name);
            rc = 2;
        } else if (!apply_context(&d, &o)) {
            rc = 2;
        } else {
            /* Data first: a registered instance always has a store. */
            snprintf(d.dir, sizeof d.dir, "%s/instances/%s", o.data, o.name);
            for (char *p = d.dir + strlen(o.data); *p; p++) *p = (char)tolower((unsigned char)*p);
            rc = create_data(&d, &o);
            if (!rc && (e = instances_put(a, &d, true, cli_actor(), msg, sizeof msg))) {
                fprintf(stderr, "edhub: %s\n", msg);
                rc = 1;
            }
            if (!rc) printf("edhub: instance %s ready in %s (bind clients with: edhub clients update --data %s --key KEY "
                            "--instance %s)\n", d.name, d.dir, o.data, d.name);
        }
    } else if (!strcmp(act, "update")) {
        if ((e = instances_get(a, o.data, o.name, &d))) {
            fprintf(stderr, "edhub: no instance named '%s' (see: edhub instances list)\n", o.name);
            rc = 2;
        } else {
            if (o.type) snprintf(d.type, sizeof d.type, "%s", o.type);
            if (!apply_context(&d, &o)) rc = 2;
            else if ((e = instances_put(a, &d, false, cli_actor(), msg, sizeof msg))) {
                fprintf(stderr, "edhub: %s\n", msg);
                rc = 1;
            } else printf("edhub: instance %s updated\n", d.name);
        }
    } else {
        if ((e = instances_get(a, o.data, o.name, &d)) == ERR_OK)
            e = instances_remove(a, o.name, cli_actor(), msg, sizeof msg);
        else snprintf(msg, sizeof msg, "no instance named '%s' (see: edhub instances list)", o.name);
        if (e) {
            fprintf(stderr, "edhub: %s\n", msg);
            rc = e == ERR_NOT_FOUND || e == ERR_INVALID ? 2 : 1;
        } else {
            if (o.delete_data) rc = remove_data(&d);
            printf("edhub: instance %s removed%s\n", d.name,
                   o.delete_data ? "" : " (its data stays in place; --delete-data deletes SQLite files)");
        }
    }
    admin_close(a);
    return rc;
}

bool cli_resolve_instance(const char *dir, const char *name, char *out, size_t n)
{
    admin_store *a = cli_open_admin(dir);
    if (!a) return false;
    instance_def d;
    err_t e = instances_get(a, dir, name, &d);
    admin_close(a);
    if (e) {
        fprintf(stderr, "edhub: no instance named '%s' in %s (see: edhub instances list --data %s)\n", name, dir, dir);
        return false;
    }
    snprintf(out, n, "%s", d.dir);
    return true;
}
