/* One publication run; see publish.h. */
#include "../base/jsonx.h"
#include "../load/progress.h"
#include "../model/document.h"
#include "publish_int.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define DEFER_ROUNDS 3
#define NS_CACHE_MAX 4096

/* A delete the target refused with 409 (something still refers to the
 * item): tried again once the rest of the stage is done. */
typedef struct deferred {
    const mresource *r;
    char *source_id;
    json_object *keys;
} deferred;

typedef struct run {
    const model *m;
    const pub_opts *o;
    pub_stats *st;
    pub_source src;
    pub_target tgt;
    bool have_target;
    FILE *dead;                 /* the dead-letter report */
    pub_mappings *maps;
    int *levels;
    int nlevels;
    bool *selected;             /* per resource index */
    const mresource **order;    /* selected resources, dependency order */
    int norder;
    int64_t *counts;            /* per resource index: documents in the window */
    pub_window w;
    progress_bar bar;
    const mresource *cur;
    const profile_ct *ct;       /* the profile's read content type for cur */
    long in_part;               /* items of cur handed over */
    long seq;
    char **ns;                  /* namespaces asked of the target ... */
    bool *ns_ok;                /* ... and whether it has them */
    int nns;
    deferred *defer;
    int ndefer, capdefer;
    /* Lineage (local target): the source client of each record handed over
     * for cur (by seq - owners_base), and the rows written, saved after
     * each resource. */
    char **owners;
    long owners_base, nowners, capowners;
    store_lineage *rows;
    int nrows, caprows;
    char published_at[32];
} run;

static bool stopping(run *R)
{
    if (R->o->stop && *R->o->stop) R->st->interrupted = true;
    if (!R->st->fatal[0] && R->have_target && target_stopped(&R->tgt.lt)) {
        long unsent = 0;
        const char *why = R->tgt.rm ? remote_stopped(R->tgt.rm, &unsent) : NULL;
        snprintf(R->st->fatal, sizeof R->st->fatal, "%s", why ? why : "the target stopped");
    }
    return R->st->interrupted || R->st->fatal[0];
}

/* ---- the dead-letter report ---- */

/* One line of the report (the caller counts it). */

static void dead_letter(run *R, const char *stage, const mresource *r, const char *source_id, json_object *key,
                        int status, json_object *problem)
{
    if (!R->dead) return;
    json_object *e = json_object_new_object();
    json_object_object_add(e, "stage", json_object_new_string(stage));
    json_object_object_add(e, "resource", json_object_new_string(r->path));
    json_object_object_add(e, "sourceId", source_id ? json_object_new_string(source_id) : NULL);
    if (key) json_object_object_add(e, "key", json_object_get(key));
    json_object_object_add(e, "status", json_object_new_int(status));
    api_problem_into(e, problem);
    fprintf(R->dead, "%s\n", jsonx_text(e));
    fflush(R->dead);
    json_object_put(e);
}

/* What the sink or remote rejected since the last drain ({"file": source
 * id, "line", "resource", "key", "status", problem...}) goes to the report
 * as upsert lines. */
static void collect_rejections(run *R)
{
    FILE *f = R->tgt.reports;
    fflush(f);
    rewind(f);
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        json_object *e = json_tokener_parse(line);
        if (!e) continue;
        json_object *out = json_object_new_object();
        json_object_object_add(out, "stage", json_object_new_string("upsert"));
        json_object_object_foreach(e, k, v) {
            if (!strcmp(k, "line")) continue;
            json_object_object_add(out, !strcmp(k, "file") ? "sourceId" : k, json_object_get(v));
        }
        if (R->dead) fprintf(R->dead, "%s\n", jsonx_text(out));
        json_object_put(out);
        json_object_put(e);
    }
    free(line);
    if (R->dead) fflush(R->dead);
    /* Emptied for the next drain (a failure would only repeat lines). */
    int rc = ftruncate(fileno(f), 0);
    (void)rc;
    rewind(f);
}

/* ---- which resources ---- */

static bool named(const char *const *names, int n, const mresource *r)
{
    for (int i = 0; i < n; i++) {
        const char *s = names[i];
        if (!strcasecmp(s, r->endpoint) || !strcasecmp(s, r->path) || !strcasecmp(s, r->name)) return true;
    }
    return false;
}

static int order_cmp(const void *a, const void *b, void *ctx)
{
    const int *lv = ctx;
    const mresource *x = *(const mresource *const *)a, *y = *(const mresource *const *)b;
    if (lv[x->index] != lv[y->index]) return lv[x->index] - lv[y->index];
    return strcmp(x->path, y->path);
}

/* The resources of this run, in dependency order. Descriptors only on
 * request (a state keeps its own code sets; Ed-Fi's default too); with a
 * profile, only what it lets be read. */
static bool select_resources(run *R, char *err, size_t errlen)
{
    const model *m = R->m;
    const pub_opts *o = R->o;
    R->levels = model_dependency_levels(m, &R->nlevels);
    R->selected = xcalloc((size_t)m->nres, sizeof(bool));
    R->order = xcalloc((size_t)m->nres, sizeof(*R->order));
    R->counts = xcalloc((size_t)m->nres, sizeof(int64_t));
    for (int i = 0; i < o->ninclude; i++) {
        bool any = false;
        for (int k = 0; k < m->nres && !any; k++) any = named(&o->include[i], 1, &m->res[k]);
        if (!any) {
            snprintf(err, errlen, "--include: no resource is named '%s' (use endpoint names such as students)",
                     o->include[i]);
            return false;
        }
    }
    if (o->profile && (!o->profiles || profile_set_find(o->profiles, o->profile) < 0)) {
        snprintf(err, errlen, "no profile named '%s' (profiles come from DIR/profiles/*.xml of the source instance "
                              "and edhub's model/ds-5.2/profiles)", o->profile);
        return false;
    }
    for (int i = 0; i < m->nres; i++) {
        const mresource *r = &m->res[i];
        bool in = R->levels[i] > 0 && !r->is_school_year;
        if (r->is_descriptor && !o->include_descriptors && !named(o->include, o->ninclude, r)) in = false;
        if (o->ninclude && !named(o->include, o->ninclude, r)) in = false;
        if (named(o->exclude, o->nexclude, r)) in = false;
        if (in && o->profile && !r->is_descriptor && !profile_lookup(o->profiles, o->profile, r, PROFILE_READ))
            in = false;
        R->selected[i] = in;
        if (in) R->order[R->norder++] = r;
    }
    qsort_r(R->order, (size_t)R->norder, sizeof *R->order, order_cmp, R->levels);
    if (!R->norder) {
        snprintf(err, errlen, "no resource to publish (check --include, --exclude and --profile)");
        return false;
    }
    return true;
}

/* ---- descriptors the target does not have ---- */

/* Whether the target has a descriptor in uri's namespace: the namespace
 * prefixes given, or asked of the target once per namespace. The
 * descriptor type comes from the namespace's last segment (Ed-Fi's
 * convention, uri://org/GradeLevelDescriptor); a namespace that does not
 * follow it is left to the target to judge. */
static bool known_namespace(void *ctx, const char *uri)
{
    run *R = ctx;
    const char *hash = strchr(uri, '#');
    size_t nslen = hash ? (size_t)(hash - uri) : strlen(uri);
    if (R->o->nstate_ns) {
        for (int i = 0; i < R->o->nstate_ns; i++)
            if (!strncasecmp(uri, R->o->state_ns[i], strlen(R->o->state_ns[i]))) return true;
        return false;
    }
    for (int i = 0; i < R->nns; i++)
        if (strlen(R->ns[i]) == nslen && !strncasecmp(R->ns[i], uri, nslen)) return R->ns_ok[i];
    char ns[512];
    if (nslen >= sizeof ns) return true;
    memcpy(ns, uri, nslen);
    ns[nslen] = 0;
    const char *slash = strrchr(ns, '/');
    const mresource *d = slash ? model_find_by_name(R->m, R->m->project_name, slash + 1) : NULL;
    bool ok = !d || !d->is_descriptor || pub_target_has_namespace(&R->tgt, d, ns);
    if (R->nns < NS_CACHE_MAX) {
        R->ns = xrealloc(R->ns, sizeof(char *) * (size_t)(R->nns + 1));
        R->ns_ok = xrealloc(R->ns_ok, sizeof(bool) * (size_t)(R->nns + 1));
        R->ns[R->nns] = xstrdup(ns);
        R->ns_ok[R->nns++] = ok;
    }
    return ok;
}

static bool add_mapping(void *ctx, const pub_item *it)
{
    pub_mappings_add(((void **)ctx)[0], it->doc, ((void **)ctx)[1] != NULL);
    return true;
}

static bool load_mappings(run *R, char *err, size_t errlen)
{
    R->maps = pub_mappings_new();
    pub_map_from from = R->o->mappings;
    if (from == PUB_MAP_NONE) return true;
    const mresource *dm = model_find(R->m, "ed-fi", "descriptorMappings");
    if (!dm) return true;
    void *src_ctx[2] = {R->maps, NULL}, *tgt_ctx[2] = {R->maps, R};
    if ((from == PUB_MAP_SOURCE || from == PUB_MAP_BOTH) &&
        !pub_source_docs(&R->src, dm, 0, 0, add_mapping, src_ctx, err, errlen))
        return false;
    if ((from == PUB_MAP_TARGET || from == PUB_MAP_BOTH) && !pub_target_all(&R->tgt, dm, add_mapping, tgt_ctx, err, errlen))
        return false;
    return true;
}

/* ---- lineage ---- */

static void remember_owner(run *R, const char *owner)
{
    if (!R->o->lineage || !R->tgt.k) return;
    if (R->nowners == R->capowners) {
        R->capowners = R->capowners ? 2 * R->capowners : 1024;
        R->owners = xrealloc(R->owners, sizeof(char *) * (size_t)R->capowners);
    }
    R->owners[R->nowners++] = owner ? xstrdup(owner) : NULL;
}

/* The sink wrote a record: file is its source id, line its seq. */
static void on_written(void *ctx, const mresource *r, const char *file, long line, const char *id)
{
    run *R = ctx;
    if (R->nrows == R->caprows) {
        R->caprows = R->caprows ? 2 * R->caprows : 1024;
        R->rows = xrealloc(R->rows, sizeof(store_lineage) * (size_t)R->caprows);
    }
    long i = line - R->owners_base;
    const char *owner = i >= 0 && i < R->nowners ? R->owners[i] : NULL;
    char name[256];
    snprintf(name, sizeof name, "%s/%s", r->project_endpoint, r->endpoint);
    R->rows[R->nrows++] = (store_lineage){.resource = xstrdup(name), .id = xstrdup(id), .source = R->o->source_name,
                                          .source_client = owner ? xstrdup(owner) : NULL,
                                          .source_id = file[0] ? xstrdup(file) : NULL,
                                          .published_at = R->published_at};
}

static err_t lineage_job(store_txn *t, void *ctx)
{
    run *R = ctx;
    for (int i = 0; i < R->nrows; i++) {
        err_t e = txn_lineage_put(t, &R->rows[i]);
        if (e) return e;
    }
    return ERR_OK;
}

static void forget_lineage(run *R)
{
    for (long i = 0; i < R->nowners; i++) free(R->owners[i]);
    R->nowners = 0;
    R->owners_base = R->seq + 1;
    for (int i = 0; i < R->nrows; i++) {
        free((char *)R->rows[i].resource);
        free((char *)R->rows[i].id);
        free((char *)R->rows[i].source_client);
        free((char *)R->rows[i].source_id);
    }
    R->nrows = 0;
}

/* Saves the lineage of what the last resource wrote (one transaction). */
static bool save_lineage(run *R, char *err, size_t errlen)
{
    bool ok = !R->nrows || store_run(R->tgt.s, lineage_job, R) == ERR_OK;
    if (!ok) snprintf(err, errlen, "cannot record the lineage of the published records in the target (storage error)");
    forget_lineage(R);
    return ok;
}

/* ---- upserts ---- */

static json_object *natural_key(const mresource *r, json_object *doc)
{
    arena a;
    arena_init(&a, 2048);
    const char *k = doc_key_values(&a, r, doc);
    json_object *key = k ? json_tokener_parse(k) : NULL;
    arena_free(&a);
    return key;
}

static void hold(run *R, const mresource *r, const pub_item *it, json_object *unmapped)
{
    json_object *p = json_object_new_object();
    char detail[600];
    snprintf(detail, sizeof detail,
             "unmapped local descriptor: %s has no descriptorMapping and its namespace is not one the target has; "
             "add a descriptorMapping to a state value at the source, or load the descriptor into the target",
             jsonx_str(json_object_array_get_idx(unmapped, 0), "value"));
    json_object_object_add(p, "type", json_object_new_string("urn:edhub:publish:unmapped-local-descriptor"));
    json_object_object_add(p, "detail", json_object_new_string(detail));
    json_object_object_add(p, "descriptors", json_object_get(unmapped));
    json_object *key = natural_key(r, it->doc);
    R->st->held++;
    dead_letter(R, "upsert", r, it->id, key, 0, p);
    json_object_put(key);
    json_object_put(p);
}

static bool on_doc(void *ctx, const pub_item *it)
{
    run *R = ctx;
    const mresource *r = R->cur;
    if (stopping(R)) return false;
    char id[64];
    snprintf(id, sizeof id, "%s", it->id ? it->id : "");
    pub_clean_doc(it->doc, r);
    if (R->ct) profile_filter_read(R->ct, it->doc);
    if (!r->is_descriptor) {
        json_object *unmapped = json_object_new_array();
        int n = pub_map_descriptors(R->maps, r->name, it->doc, known_namespace, R, unmapped);
        if (n) {
            pub_item held = {.id = id, .doc = it->doc};
            hold(R, r, &held, unmapped);
        }
        json_object_put(unmapped);
        if (n) {
            R->in_part++;
            return true;
        }
    }
    const char *text = jsonx_text(it->doc);
    remember_owner(R, it->owner);
    target_put(&R->tgt.lt, r, text, strlen(text), id, ++R->seq);
    R->in_part++;
    progress_tick(&R->bar, R->in_part);
    return true;
}

static bool upserts(run *R, char *err, size_t errlen)
{
    for (int i = 0; i < R->norder && !stopping(R); i++) {
        const mresource *r = R->order[i];
        if (!R->counts[r->index]) continue;
        R->cur = r;
        R->ct = R->o->profile && !r->is_descriptor ? profile_lookup(R->o->profiles, R->o->profile, r, PROFILE_READ)
                                                   : NULL;
        R->in_part = 0;
        R->bar.label = r->path;
        bool ok = pub_source_docs(&R->src, r, R->w.min, R->w.max, on_doc, R, err, errlen);
        /* A level is written before what depends on it is sent. */
        target_drain(&R->tgt.lt);
        collect_rejections(R);
        R->bar.done += R->in_part;
        progress_tick(&R->bar, 0);
        if (R->o->lineage && R->tgt.k && !save_lineage(R, err, errlen)) return false;
        if (!ok) return false;
    }
    return true;
}

/* ---- key changes ---- */

typedef struct change_ctx {
    run *R;
    const mresource *r;
    bool deletes;
} change_ctx;

/* Key values with their descriptors mapped as the documents' are. */
static json_object *mapped_keys(run *R, const mresource *r, json_object *keys)
{
    json_object *copy = NULL;
    if (json_object_deep_copy(keys, &copy, NULL) != 0) return NULL;
    pub_map_descriptors(R->maps, r->name, copy, NULL, NULL, NULL);
    return copy;
}

static bool on_key_change(void *ctx, const pub_change *c)
{
    change_ctx *cc = ctx;
    run *R = cc->R;
    const mresource *r = cc->r;
    if (stopping(R)) return false;
    json_object *old = mapped_keys(R, r, c->old_keys), *new = mapped_keys(R, r, c->new_keys), *doc = NULL;
    pub_result res = {0};
    char id[64];
    int found = old && new ? pub_target_find(&R->tgt, r, old, id, &doc, &res) : -1;
    if (found == 0) {
        R->st->skipped++; /* not on the target under the old key: never published, or changed already */
    } else if (found < 0) {
        R->st->rejected++, dead_letter(R, "keyChange", r, c->id, old, res.status, res.problem);
    } else {
        pub_clean_doc(doc, r);
        pub_set_key_values(r, doc, new);
        /* A 7.x PUT carries the id of the URL in its body. */
        json_object_object_add(doc, "id", json_object_new_string(id));
        if (pub_target_put(&R->tgt, r, id, doc, &res)) R->st->key_changes++;
        else R->st->rejected++, dead_letter(R, "keyChange", r, c->id, new, res.status, res.problem);
    }
    pub_result_clear(&res);
    json_object_put(doc);
    json_object_put(old);
    json_object_put(new);
    return true;
}

/* ---- deletes ---- */

static void defer_delete(run *R, const mresource *r, const char *source_id, json_object *keys)
{
    if (R->ndefer == R->capdefer) {
        R->capdefer = R->capdefer ? 2 * R->capdefer : 64;
        R->defer = xrealloc(R->defer, sizeof(deferred) * (size_t)R->capdefer);
    }
    R->defer[R->ndefer++] = (deferred){r, xstrdup(source_id ? source_id : ""), json_object_get(keys)};
}

/* Deletes the target's item of keys (mapped); last: a 409 is final. */
static void delete_one(run *R, const mresource *r, const char *source_id, json_object *keys, bool last)
{
    pub_result res = {0};
    char id[64];
    json_object *doc = NULL;
    int found = pub_target_find(&R->tgt, r, keys, id, &doc, &res);
    json_object_put(doc);
    if (found == 0) R->st->skipped++; /* never published, or deleted already */
    else if (found < 0) R->st->rejected++, dead_letter(R, "delete", r, source_id, keys, res.status, res.problem);
    else if (pub_target_delete(&R->tgt, r, id, &res)) R->st->deletes++;
    else if (res.status == 409 && !last) defer_delete(R, r, source_id, keys);
    else R->st->rejected++, dead_letter(R, "delete", r, source_id, keys, res.status, res.problem);
    pub_result_clear(&res);
}

static bool on_delete(void *ctx, const pub_change *c)
{
    change_ctx *cc = ctx;
    if (stopping(cc->R)) return false;
    json_object *keys = mapped_keys(cc->R, cc->r, c->keys);
    if (keys) delete_one(cc->R, cc->r, c->id, keys, false);
    json_object_put(keys);
    return true;
}

static void retry_deferred(run *R)
{
    for (int round = 1; round <= DEFER_ROUNDS && R->ndefer && !stopping(R); round++) {
        deferred *d = R->defer;
        int n = R->ndefer;
        R->defer = NULL;
        R->ndefer = R->capdefer = 0;
        for (int i = 0; i < n; i++) {
            if (!stopping(R)) delete_one(R, d[i].r, d[i].source_id, d[i].keys, round == DEFER_ROUNDS);
            free(d[i].source_id);
            json_object_put(d[i].keys);
        }
        free(d);
    }
}

/* Key changes (dependency order) or deletes (reverse order). Descriptor
 * deletes are not published (a state keeps its code sets; Ed-Fi does the
 * same). */
static bool changes(run *R, bool deletes, char *err, size_t errlen)
{
    for (int k = 0; k < R->norder && !stopping(R); k++) {
        const mresource *r = R->order[deletes ? R->norder - 1 - k : k];
        if (r->is_descriptor) continue;
        change_ctx cc = {R, r, deletes};
        R->bar.label = deletes ? "deletes" : "key changes";
        bool ok = pub_source_changes(&R->src, r, !deletes, R->w.min, R->w.max, deletes ? on_delete : on_key_change,
                                     &cc, err, errlen);
        if (!ok) return false;
    }
    if (deletes) retry_deferred(R);
    return true;
}

/* ---- the run ---- */

static void print_plan(run *R, FILE *out)
{
    fprintf(out, "window: change versions %lld..%lld%s\n", (long long)R->w.min, (long long)R->w.max,
            R->w.first ? " (first publication: everything; key changes and deletes are not needed)" : "");
    long total = 0;
    for (int i = 0; i < R->norder; i++) {
        const mresource *r = R->order[i];
        fprintf(out, "  %3d %-70s %lld\n", R->levels[r->index], r->path, (long long)R->counts[r->index]);
        total += R->counts[r->index];
    }
    fprintf(out, "%d resources, %ld documents changed in the window\n", R->norder, total);
}

static bool count_all(run *R, char *err, size_t errlen)
{
    long total = 0;
    for (int i = 0; i < R->norder && !stopping(R); i++) {
        const mresource *r = R->order[i];
        if (!pub_source_count(&R->src, r, R->w.min, R->w.max, &R->counts[r->index], err, errlen)) return false;
        total += R->counts[r->index];
    }
    R->bar.total = total;
    return true;
}

static void run_free(run *R)
{
    if (R->have_target) pub_target_close(&R->tgt);
    pub_source_close(&R->src);
    pub_mappings_free(R->maps);
    for (int i = 0; i < R->nns; i++) free(R->ns[i]);
    free(R->ns);
    free(R->ns_ok);
    forget_lineage(R);
    free(R->owners);
    free(R->rows);
    for (int i = 0; i < R->ndefer; i++) free(R->defer[i].source_id), json_object_put(R->defer[i].keys);
    free(R->defer);
    free(R->levels);
    free(R->selected);
    free(R->order);
    free(R->counts);
    if (R->dead) fclose(R->dead);
}

/* The stages, once the window is known and not empty. */
static bool stages(run *R, char *err, size_t errlen)
{
    if (!count_all(R, err, errlen)) return false;
    if (!load_mappings(R, err, errlen)) return false;
    if (R->o->progress)
        fprintf(R->o->progress, "edhub: publishing change versions %lld..%lld: %d resources, %ld documents%s\n",
                (long long)R->w.min, (long long)R->w.max, R->norder, R->bar.total,
                pub_mappings_count(R->maps) ? ", descriptor mappings applied" : "");
    /* A first publication copies what exists: there is nothing to re-key or
     * delete on the target (as the Ed-Fi API Publisher). */
    if (!R->w.first && !changes(R, false, err, errlen)) return false;
    if (!upserts(R, err, errlen)) return false;
    if (!R->w.first && !stopping(R) && !changes(R, true, err, errlen)) return false;
    return true;
}

int publish_run(const model *m, const pub_opts *o, pub_stats *st)
{
    memset(st, 0, sizeof *st);
    run R = {.m = m, .o = o, .st = st};
    char err[2048] = "";
    int status = 1;
    if (!select_resources(&R, err, sizeof err)) {
        status = 2;
        goto out;
    }
    if (!pub_source_open(&R.src, m, &o->source, o->progress, err, sizeof err)) goto out;
    int64_t newest = 0;
    if (!pub_source_newest(&R.src, &newest, err, sizeof err)) goto out;
    int64_t last = o->full ? -1 : o->since >= 0 ? o->since : pub_bookmark_get(o->state_path, o->source_name, o->target_name);
    R.w = pub_window_of(last, newest);
    st->min_cv = R.w.min;
    st->max_cv = R.w.max;
    if (o->dry_run) {
        if (!R.w.empty && !count_all(&R, err, sizeof err)) goto out;
        print_plan(&R, stdout);
        status = 0;
        goto out;
    }
    if (R.w.empty) {
        st->nothing = true;
        status = 0;
        goto out;
    }
    if (!pub_target_open(&R.tgt, m, &o->target, o, err, sizeof err)) goto out;
    R.have_target = true;
    R.dead = fopen(o->errors_path, "w");
    if (!R.dead) {
        snprintf(err, sizeof err, "cannot write the dead-letter report %s (choose another with --errors FILE)",
                 o->errors_path);
        goto out;
    }
    R.bar = (progress_bar){.out = o->progress, .start = time(NULL), .st = &R.tgt.st};
    time_t now = time(NULL);
    strftime(R.published_at, sizeof R.published_at, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    R.owners_base = 1;
    if (o->lineage && R.tgt.k) sink_on_written(R.tgt.k, on_written, &R);
    bool ok = stages(&R, err, sizeof err);
    target_drain(&R.tgt.lt);
    collect_rejections(&R);
    R.bar.label = NULL;
    if (o->progress) progress_show(&R.bar, 0), fputc('\n', o->progress);
    st->created = R.tgt.st.created;
    st->updated = R.tgt.st.updated;
    st->upserted = st->created + st->updated;
    st->rejected += R.tgt.st.rejected;
    stopping(&R);
    if (!ok && !st->fatal[0]) snprintf(st->fatal, sizeof st->fatal, "%s", err);
    err[0] = 0;
    /* The bookmark moves only past a run with nothing refused, held back or
     * left undone (as the Ed-Fi API Publisher): the next run sends the same
     * window again, and upserts make that harmless. */
    if (!st->rejected && !st->held && !st->fatal[0] && !st->interrupted) {
        if (!pub_bookmark_put(o->state_path, o->source_name, o->target_name, R.w.max, err, sizeof err)) goto out;
        st->advanced = true;
        status = 0;
    }
out:
    if (err[0] && !st->fatal[0]) snprintf(st->fatal, sizeof st->fatal, "%s", err);
    run_free(&R);
    return status;
}
