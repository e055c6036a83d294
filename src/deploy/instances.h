/* The ODS instances of a deployment (integration.md §6): the registry kept
 * in the deployment's admin store, the context route template and tenant
 * from DIR/edhub.conf, and the choice of an instance for a request, as
 * ODS/API 7.3's instance selector makes it.
 *
 * Layout: the deployment directory DIR holds the admin store and the
 * "default" instance (DIR/ods.sqlite, or the database DIR/edhub.conf
 * names); every other instance NAME lives in DIR/instances/NAME, laid out
 * the same way (its own ods.sqlite, or an edhub.conf naming its
 * PostgreSQL database, so no connection string ever reaches the audit
 * log). The registry holds what routing needs: name, type, context. */
#ifndef EDHUB_INSTANCES_H
#define EDHUB_INSTANCES_H
#include "../base/err.h"
#include "../store/admin.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INST_DEFAULT "default"
#define INST_NAME_MAX 64
#define INST_MAX_KEYS 4
#define INST_KEY_MAX 63
#define INST_VALUE_MAX 63

/* ---- the route template (pure: fuzzed with the configuration) ---- */

typedef enum { TPL_ANY, TPL_INT, TPL_RANGE } tpl_constraint;

/* "{schoolYear}", "{districtId}/{schoolYear:range(2000,2099)}": one
 * segment per key, each {name} or {name:int} or {name:range(lo,hi)}. */
typedef struct route_template {
    int nkeys;
    char key[INST_MAX_KEYS][INST_KEY_MAX + 1];
    tpl_constraint kind[INST_MAX_KEYS];
    int64_t lo[INST_MAX_KEYS], hi[INST_MAX_KEYS];
} route_template;

/* Parses text (empty: no keys); false with a reason in err. */
bool route_template_parse(const char *text, route_template *t, char *err, size_t errlen);
/* Takes one segment per key from path ("/2026/data/v3/..."): the values
 * go to vals, *rest points at what follows ("/data/v3/..."). False when a
 * segment is missing, too long or breaks its constraint. */
bool route_template_match(const route_template *t, const char *path, char vals[][INST_VALUE_MAX + 1],
                          const char **rest);
/* The template's keys as "{a}/{b}" (constraints left out), for messages. */
void route_template_text(const route_template *t, char *out, size_t n);

/* ---- the registry ---- */

typedef struct instance_def {
    char name[INST_NAME_MAX + 1];
    char type[33];              /* free text, as ODS's InstanceType ("district", "state", ...) */
    int nctx;                   /* context values, one per route template key */
    char ctx_key[INST_MAX_KEYS][INST_KEY_MAX + 1];
    char ctx_val[INST_MAX_KEYS][INST_VALUE_MAX + 1];
    char dir[1024];             /* where its data lives (DIR, or DIR/instances/NAME) */
    char uid[37];               /* set when registered: tells a re-created instance from the old one */
} instance_def;

/* Where instance name of the deployment in dir keeps its data. */
void instance_data_dir(const char *dir, const char *name, char *out, size_t n);
/* 1-64 letters, digits, '-' and '_' (a directory name and a URL segment). */
bool instance_name_ok(const char *name);
/* Every instance of the deployment in dir, "default" first, by name after
 * it; *out is malloc'ed. */
err_t instances_list(admin_store *a, const char *dir, instance_def **out, int *n);
/* One instance by name (case-insensitive); ERR_NOT_FOUND when absent. */
err_t instances_get(admin_store *a, const char *dir, const char *name, instance_def *out);
/* Registers or changes an instance (audited as actor). create: it must
 * not exist yet. The default instance can be given a type and context
 * but is never created or removed. */
err_t instances_put(admin_store *a, const instance_def *d, bool create, const char *actor, char *msg, size_t msglen);
/* Unregisters an instance (its data stays; the caller may delete it). */
err_t instances_remove(admin_store *a, const char *name, const char *actor, char *msg, size_t msglen);
/* Parses "key=value" into slot i of d (keys and values 1-63 characters,
 * no '/', no blanks); false with a reason. */
bool instance_context_add(instance_def *d, const char *kv, char *msg, size_t msglen);

/* ---- choosing the instance of a request ---- */

typedef enum {
    SEL_OK,
    SEL_NO_INSTANCE,   /* the client is bound to no instance */
    SEL_NO_MATCH,      /* none of the client's instances matches the route values */
} select_result;

/* As ODS/API 7.3: a client bound to exactly one instance, with no
 * template, uses it; otherwise the first of the client's instances (in
 * the order of all) whose every context key equals the route value
 * (values compare case-insensitively). names: the client's instance
 * names. vals: the route values, one per template key. */
select_result instance_select(const instance_def *all, int n, const char *const *names, int nnames,
                              const route_template *t, char vals[][INST_VALUE_MAX + 1], int *index);

#endif
