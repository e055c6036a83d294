/* edhub publish: the command line of src/publish. */
#include "../base/arena.h"
#include "../load/apiconn.h"
#include "../load/remote.h"
#include "../model/model.h"
#include "../profiles/profiles.h"
#include "../publish/publish.h"
#include "../store/store.h"
#include "cli.h"
#include "../base/jsonx.h"
#include "../deploy/instances.h"
#include "../deploy/snapshots.h"
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *usage_publish =
    "usage: edhub publish (--source-data DIR [--source-instance NAME] | --source-api URL [--source-key K --source-secret S|-])\n"
    "                     [--source-snapshot NAME|newest]\n"
    "                     (--target-data DIR [--target-instance NAME] | --target-api URL [--target-key K --target-secret S|-])\n"
    "                     [--source-name N] [--target-name N] [--state FILE] [--errors FILE]\n"
    "                     [--profile NAME] [--mappings source|target|both|none] [--state-namespace PREFIX]...\n"
    "                     [--include R,...] [--exclude R,...] [--include-descriptors]\n"
    "                     [--full | --last-change-version N] [--dry-run] [--connections N] [--no-batch] [--model FILE]\n"
    "       edhub publish --data DIR --all-districts [--target-instance NAME | --target-api URL ...] [--every S] [options]\n"
    "       edhub publish --lineage --target-data DIR [--resource R] [--id ID] [--source-name N] [--limit N] [--json]\n"
    "\n"
    "Publishes what changed in the source instance since the last publication into the target, as the\n"
    "Ed-Fi API Publisher does (district ODS -> state ODS). Either end is a local instance (a directory made\n"
    "by edhub init, or with --source-instance/--target-instance NAME an instance of the deployment in DIR;\n"
    "a local source is only read and may be served meanwhile, a local target's server must be stopped) or\n"
    "any Ed-Fi API over HTTP (an ODS/API 7.x or a running edhub: the source's client needs ReadChanges,\n"
    "e.g. claim set \"Ed-Fi API Publisher - Reader\"). Keys and\n"
    "secrets may come from EDHUB_SOURCE_KEY, EDHUB_SOURCE_SECRET, EDHUB_TARGET_KEY, EDHUB_TARGET_SECRET\n"
    "(better than the command line); '-' reads a secret from stdin (the source's line first).\n"
    "\n"
    "A run takes the window of change versions after the bookmark up to the source's newest, then sends,\n"
    "resource by resource in dependency order: key changes (the target's item found by its old key and\n"
    "PUT with the new one), upserts (POST of each changed document without id, _etag and links), and, in\n"
    "reverse order, deletes (found by natural key, then DELETE). The first publication sends everything.\n"
    "Descriptors are not published unless --include-descriptors (a state keeps its own code sets).\n"
    "\n"
    "  --profile NAME      send only the members the API profile's readable content type has, and only\n"
    "                      the resources it covers (profiles: DIR/profiles/*.xml, model/ds-5.2/profiles)\n"
    "  --mappings FROM     descriptor values with a descriptorMapping travel as the mapped (state) value;\n"
    "                      the mappings are read from the source (default), the target, or both (the\n"
    "                      target's win); a mapping with modelEntities applies to those resources only\n"
    "  --state-namespace P a descriptor namespace prefix the target has (repeat it); without it the\n"
    "                      target is asked. A record with a value that is neither mapped nor in such a\n"
    "                      namespace is not sent: it is reported as an unmapped local descriptor\n"
    "  --include R,...     only these resources (endpoint names: students,studentSchoolAssociations)\n"
    "  --exclude R,...     not these\n"
    "  --source-snapshot NAME   read a snapshot of the source (edhub snapshot): one point in time for the\n"
    "                      whole run. An API source gets 'Snapshot-Identifier: NAME' ('newest': 'Use-Snapshot:\n"
    "                      true'); a local source opens its snapshots/NAME\n"
    "  --full              ignore the bookmark: publish everything (as a first run)\n"
    "  --last-change-version N   publish what changed after N (this run only)\n"
    "  --dry-run, --what-if      print the window and the resources with their counts; change nothing\n"
    "\n"
    "Bookmark: the last change version published, per source and target name, in --state FILE (default\n"
    "DIR/publish-state.json of a local source, else ./publish-state.json). It moves only after a run in\n"
    "which nothing was rejected or held back and that was not interrupted, so a run after Ctrl-C or a\n"
    "failure sends the same window again (upserts: nothing is duplicated). Names default to the source\n"
    "and target directory or URL (--source-name, --target-name).\n"
    "\n"
    "Dead letters: every record the target refused or that was held back, one JSON line each (stage,\n"
    "resource, sourceId, key, status and the target's problem details), go to --errors FILE (default\n"
    "DIR/publish-errors.jsonl of a local target, else ./publish-errors.jsonl); the exit status is then 1.\n"
    "Progress (rate, ETA) goes to stderr, the summary to stdout.\n"
    "\n"
    "--all-districts promotes every instance of type 'district' of the deployment in DIR (edhub instances\n"
    "list) into its instance of type 'state' (or --target-instance NAME, or --target-api URL), one district\n"
    "after the other, each with its own bookmark (named after the district and the target) and dead-letter\n"
    "file (publish-errors-DISTRICT.jsonl), then prints a summary per district. Profiles come from DIR/profiles.\n"
    "With --source-snapshot NAME each district's snapshot of that name is published (e.g. a count day).\n"
    "--every S keeps promoting: a round every S seconds (the summary when a round changed something or\n"
    "failed) until SIGINT/SIGTERM, which ends it after the current page with the last round's exit status;\n"
    "one OAuth token serves every round of an API target.\n"
    "\n"
    "Lineage: a local target records, for every document a publication wrote, the source's name, the\n"
    "client that wrote it at the source (a local source's owner) and its id there (--no-lineage: not).\n"
    "--lineage prints those records of the instance in --target-data (filters: --resource, --id, --source-name),\n"
    "one line each (tab-separated, or JSON lines with --json).\n";

typedef struct pub_cli {
    pub_opts o;
    const char *src_dir, *src_api, *src_key, *src_secret;
    const char *tgt_dir, *tgt_api, *tgt_key, *tgt_secret;
    const char *model, *mappings;
    const char *src_inst, *tgt_inst;  /* --source-instance, --target-instance: NAME of the deployment in DIR */
    const char *deployment;           /* --data DIR (with --all-districts) */
    const char *src_snapshot;         /* --source-snapshot NAME|newest */
    char snap_path[PATH_MAX + 96];
    bool all_districts;
    double every;                     /* --every SECONDS: run again and again (0: once) */
    char src_path[PATH_MAX], tgt_path[PATH_MAX];
    const char *resource, *id;    /* --lineage filters */
    bool lineage_mode, json, no_lineage;
    int64_t limit;
    char src_name[PATH_MAX + 16], tgt_name[PATH_MAX + 16], state[PATH_MAX], errors[PATH_MAX];
    char secrets[2][1024];
} pub_cli;

static volatile sig_atomic_t publish_interrupted;
static void on_publish_signal(int sig)
{
    (void)sig;
    publish_interrupted = 1;
}

/* Splits "a,b,c" into names (pointing into the argument). */
static int add_names(const char **out, int n, char *list, const char *flag)
{
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n >= PUB_MAX_NAMES) {
            fprintf(stderr, "edhub: %s: at most %d names\n", flag, PUB_MAX_NAMES);
            return -1;
        }
        if (*t) out[n++] = t;
    }
    return n;
}

static int parse_publish(int argc, char **argv, pub_cli *c)
{
    pub_opts *o = &c->o;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_publish, stdout);
            return 1;
        }
        if (!strcmp(a, "--source-data")) slot = &c->src_dir;
        else if (!strcmp(a, "--data")) slot = &c->deployment;
        else if (!strcmp(a, "--all-districts")) c->all_districts = true;
        else if (!strcmp(a, "--every")) {
            const char *v;
            if (cli_option_value(argc, argv, &i, &v)) return 2;
            char *end;
            double x = strtod(v, &end);
            if (*end || !(x >= 0.1 && x <= 86400)) return fprintf(stderr, "edhub: --every needs seconds (0.1-86400)\n"), 2;
            c->every = x;
        }
        else if (!strcmp(a, "--source-instance")) slot = &c->src_inst;
        else if (!strcmp(a, "--target-instance")) slot = &c->tgt_inst;
        else if (!strcmp(a, "--source-api")) slot = &c->src_api;
        else if (!strcmp(a, "--source-snapshot")) slot = &c->src_snapshot;
        else if (!strcmp(a, "--source-key")) slot = &c->src_key;
        else if (!strcmp(a, "--source-secret")) slot = &c->src_secret;
        else if (!strcmp(a, "--target-data")) slot = &c->tgt_dir;
        else if (!strcmp(a, "--target-api")) slot = &c->tgt_api;
        else if (!strcmp(a, "--target-key")) slot = &c->tgt_key;
        else if (!strcmp(a, "--target-secret")) slot = &c->tgt_secret;
        else if (!strcmp(a, "--source-name")) slot = &o->source_name;
        else if (!strcmp(a, "--target-name")) slot = &o->target_name;
        else if (!strcmp(a, "--state")) slot = &o->state_path;
        else if (!strcmp(a, "--errors")) slot = &o->errors_path;
        else if (!strcmp(a, "--profile")) slot = &o->profile;
        else if (!strcmp(a, "--mappings")) slot = &c->mappings;
        else if (!strcmp(a, "--model")) slot = &c->model;
        else if (!strcmp(a, "--include-descriptors")) o->include_descriptors = true;
        else if (!strcmp(a, "--dry-run") || !strcmp(a, "--what-if")) o->dry_run = true;
        else if (!strcmp(a, "--full")) o->full = true;
        else if (!strcmp(a, "--no-batch")) o->no_batch = true;
        else if (!strcmp(a, "--lineage")) c->lineage_mode = true;
        else if (!strcmp(a, "--no-lineage")) c->no_lineage = true;
        else if (!strcmp(a, "--json")) c->json = true;
        else if (!strcmp(a, "--resource")) slot = &c->resource;
        else if (!strcmp(a, "--id")) slot = &c->id;
        else if (!strcmp(a, "--state-namespace") || !strcmp(a, "--include") || !strcmp(a, "--exclude") ||
                 !strcmp(a, "--last-change-version") || !strcmp(a, "--connections") || !strcmp(a, "--limit")) {
            const char *v;
            if (cli_option_value(argc, argv, &i, &v)) return 2;
            char *end;
            long long x = strtoll(v, &end, 10);
            if (!strcmp(a, "--state-namespace")) {
                if (o->nstate_ns >= PUB_MAX_NAMES) return fprintf(stderr, "edhub: too many --state-namespace\n"), 2;
                o->state_ns[o->nstate_ns++] = v;
            } else if (!strcmp(a, "--include")) {
                if ((o->ninclude = add_names(o->include, o->ninclude, argv[i], a)) < 0) return 2;
            } else if (!strcmp(a, "--exclude")) {
                if ((o->nexclude = add_names(o->exclude, o->nexclude, argv[i], a)) < 0) return 2;
            } else if (!strcmp(a, "--limit")) {
                if (*end || x < 1) return fprintf(stderr, "edhub: --limit needs a number >= 1\n"), 2;
                c->limit = x;
            } else if (!strcmp(a, "--last-change-version")) {
                if (*end || x < 0) return fprintf(stderr, "edhub: --last-change-version needs a number >= 0\n"), 2;
                o->since = x;
            } else {
                if (*end || x < 1 || x > 256) return fprintf(stderr, "edhub: --connections needs a number between 1 and 256\n"), 2;
                o->connections = (int)x;
            }
            continue;
        } else {
            fprintf(stderr, "edhub: unknown option '%s'\n\n%s", a, usage_publish);
            return 2;
        }
        if (slot && cli_option_value(argc, argv, &i, slot)) return 2;
    }
    return 0;
}

/* Reads a secret from stdin (--x-secret -): the next line. */
static const char *stdin_secret(char *out, size_t n)
{
    if (!fgets(out, (int)n, stdin)) return NULL;
    out[strcspn(out, "\r\n")] = 0;
    return out;
}

/* --source-instance / --target-instance NAME: the instance's directory in
 * the deployment DIR stands for DIR. */
static int resolve_instances(pub_cli *c)
{
    if ((c->src_inst && !c->src_dir) || (c->tgt_inst && !c->tgt_dir)) {
        fprintf(stderr, "edhub: --source-instance goes with --source-data DIR, --target-instance with --target-data DIR\n");
        return 2;
    }
    if (c->src_inst) {
        if (!cli_resolve_instance(c->src_dir, c->src_inst, c->src_path, sizeof c->src_path)) return 1;
        c->src_dir = c->src_path;
    }
    if (c->tgt_inst) {
        if (!cli_resolve_instance(c->tgt_dir, c->tgt_inst, c->tgt_path, sizeof c->tgt_path)) return 1;
        c->tgt_dir = c->tgt_path;
    }
    return 0;
}

/* Checks that each end is one thing, and takes keys and secrets from the
 * environment when not given. */
static int check_ends(pub_cli *c)
{
    if (!!c->src_dir + !!c->src_api != 1 || !!c->tgt_dir + !!c->tgt_api != 1) {
        fprintf(stderr, "edhub: give one source (--source-data DIR or --source-api URL) and one target "
                        "(--target-data DIR or --target-api URL)\n\n%s", usage_publish);
        return 2;
    }
    if (c->src_dir && c->tgt_dir) {
        char a[PATH_MAX], b[PATH_MAX];
        if (realpath(c->src_dir, a) && realpath(c->tgt_dir, b) && !strcmp(a, b)) {
            fprintf(stderr, "edhub: the source and the target are the same instance (%s)\n", a);
            return 2;
        }
    }
    if (c->src_api) {
        if (!c->src_key) c->src_key = getenv("EDHUB_SOURCE_KEY");
        if (!c->src_secret) c->src_secret = getenv("EDHUB_SOURCE_SECRET");
        if (c->src_secret && !strcmp(c->src_secret, "-"))
            c->src_secret = stdin_secret(c->secrets[0], sizeof c->secrets[0]);
    }
    if (c->tgt_api) {
        if (!c->tgt_key) c->tgt_key = getenv("EDHUB_TARGET_KEY");
        if (!c->tgt_secret) c->tgt_secret = getenv("EDHUB_TARGET_SECRET");
        if (c->tgt_secret && !strcmp(c->tgt_secret, "-"))
            c->tgt_secret = stdin_secret(c->secrets[1], sizeof c->secrets[1]);
    }
    if ((c->src_dir && (c->src_key || c->src_secret)) || (c->tgt_dir && (c->tgt_key || c->tgt_secret))) {
        fprintf(stderr, "edhub: --source-key/--source-secret go with --source-api, --target-key/--target-secret "
                        "with --target-api\n");
        return 2;
    }
    if (c->mappings) {
        static const char *const names[] = {"source", "target", "both", "none"};
        int k = -1;
        for (int i = 0; i < 4; i++)
            if (!strcmp(c->mappings, names[i])) k = i;
        if (k < 0) return fprintf(stderr, "edhub: --mappings is source, target, both or none\n"), 2;
        c->o.mappings = (pub_map_from)k;
    }
    if (c->o.full && c->o.since >= 0) return fprintf(stderr, "edhub: --full or --last-change-version, not both\n"), 2;
    return 0;
}

/* An end's name: its directory's real path, or its URL. */
static void end_name(char *out, size_t n, const char *dir, const char *url)
{
    char real[PATH_MAX];
    if (dir) snprintf(out, n, "%s", realpath(dir, real) ? real : dir);
    else snprintf(out, n, "%s", url);
}

static void defaults(pub_cli *c)
{
    pub_opts *o = &c->o;
    if (!o->source_name) end_name(c->src_name, sizeof c->src_name, c->src_dir, c->src_api), o->source_name = c->src_name;
    if (!o->target_name) end_name(c->tgt_name, sizeof c->tgt_name, c->tgt_dir, c->tgt_api), o->target_name = c->tgt_name;
    if (!o->state_path) {
        snprintf(c->state, sizeof c->state, "%s/publish-state.json", c->src_dir ? c->src_dir : ".");
        o->state_path = c->state;
    }
    if (!o->errors_path) {
        snprintf(c->errors, sizeof c->errors, "%s/publish-errors.jsonl", c->tgt_dir ? c->tgt_dir : ".");
        o->errors_path = c->errors;
    }
}

/* Opens a local instance's store: a target as load does (bulk writes), a
 * source read-only. */
static store *open_local(const char *dir, const model *m, bool target)
{
    char loc[PATH_MAX];
    if (!cli_instance_location(dir, loc, sizeof loc)) {
        fprintf(stderr, "edhub: no instance in %s (create one with: edhub init --data %s)\n", dir, dir);
        return NULL;
    }
    /* A source is only read: read-only, so that it may be published while
     * its own server runs (on PostgreSQL, the writer lock stays the server's). */
    return cli_open_store_ro(dir, NULL, 2, m, false, target, !target);
}

/* A local source: the instance read-only, or its snapshot c->src_snapshot
 * (a store of its own); NULL after saying why. */
static store *open_source(pub_cli *c, const model *m)
{
    if (!c->src_snapshot) return open_local(c->src_dir, m, false);
    if (!strcmp(c->src_snapshot, "newest") || strchr(c->src_snapshot, '/')) {
        fprintf(stderr, "edhub: a local source's --source-snapshot names the snapshot (see: edhub snapshot list)\n");
        return NULL;
    }
    snapshot_location(c->src_dir, c->src_snapshot, c->snap_path, sizeof c->snap_path);
    char err[512];
    store_opts so = {.readers = 2, .read_only = true};
    store *s = NULL;
    if ((strncmp(c->snap_path, "postgres", 8) && access(c->snap_path, R_OK)) ||
        store_open(c->snap_path, &so, &s, err, sizeof err)) {
        fprintf(stderr, "edhub: no snapshot '%s' of %s (see: edhub snapshot list)\n", c->src_snapshot, c->src_dir);
        return NULL;
    }
    return s;
}

static void print_summary(const pub_cli *c, const pub_stats *st, int status)
{
    const pub_opts *o = &c->o;
    if (o->dry_run) return;
    if (st->nothing) {
        printf("edhub: nothing to publish: %s has no change after version %lld\n", o->source_name,
               (long long)st->min_cv - 1);
        return;
    }
    if (status == 2) return;
    printf("edhub: change versions %lld..%lld: %ld upserted (%ld created, %ld updated), %ld key changes, %ld deletes, "
           "%ld unchanged, %ld rejected, %ld held back\n",
           (long long)st->min_cv, (long long)st->max_cv, st->upserted, st->created, st->updated, st->key_changes,
           st->deletes, st->skipped, st->rejected, st->held);
    if (st->advanced) printf("edhub: bookmark: %lld (%s)\n", (long long)st->max_cv, o->state_path);
    else fprintf(stderr, "edhub: the bookmark stays where it was: the next run sends this window again\n");
    if (st->rejected || st->held)
        fprintf(stderr, "edhub: rejected and held-back records are listed in %s\n", o->errors_path);
}

static bool print_lineage(void *ctx, const store_lineage *l)
{
    const pub_cli *c = ctx;
    if (c->json) {
        json_object *o = json_object_new_object();
        const char *names[6] = {"resource", "id", "source", "sourceClient", "sourceId", "publishedAt"};
        const char *v[6] = {l->resource, l->id, l->source, l->source_client, l->source_id, l->published_at};
        for (int i = 0; i < 6; i++) json_object_object_add(o, names[i], v[i] ? json_object_new_string(v[i]) : NULL);
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
    } else {
        printf("%s\t%s\t%s\t%s\t%s\t%s\n", l->resource, l->id, l->source, l->source_client ? l->source_client : "-",
               l->source_id ? l->source_id : "-", l->published_at);
    }
    return true;
}

/* edhub publish --lineage: where the documents of a local instance came from. */
static int show_lineage(pub_cli *c)
{
    if (!c->tgt_dir) {
        fprintf(stderr, "edhub: --lineage reads the instance named by --target-data DIR\n");
        return 2;
    }
    char name[256] = "";
    if (c->resource) {
        model *m = cli_load_model(c->model);
        if (!m) return 1;
        char proj[64] = "ed-fi", ep[128];
        const mresource *r = NULL;
        const char *res = c->resource[0] == '/' ? c->resource + 1 : c->resource;
        if (sscanf(res, "%63[^/]/%127s", proj, ep) == 2) r = model_find(m, proj, ep);
        else r = model_find(m, "ed-fi", res);
        if (r) snprintf(name, sizeof name, "%s/%s", r->project_endpoint, r->endpoint);
        model_free(m);
        if (!r) return fprintf(stderr, "edhub: --resource: no resource '%s' (e.g. students)\n", c->resource), 2;
    }
    model *m = cli_load_model(c->model);
    store *s = m ? open_local(c->tgt_dir, m, false) : NULL;
    if (!s) {
        model_free(m);
        return 1;
    }
    store_lineage match = {.resource = name[0] ? name : NULL, .id = c->id, .source = c->o.source_name};
    err_t e = store_lineage_query(s, &match, c->limit, print_lineage, c);
    store_close(s);
    model_free(m);
    if (e) fprintf(stderr, "edhub: cannot read the lineage of %s (storage error)\n", c->tgt_dir);
    return e ? 1 : 0;
}

/* One district of --all-districts: its counts, for the summary. */
typedef struct district_run {
    char name[INST_NAME_MAX + 1];
    pub_stats st;
    int status;
} district_run;

static void print_district_table(const district_run *runs, int n)
{
    printf("\n%-20s %-15s %9s %9s %9s %8s %9s %6s  %s\n", "district", "window", "upserted", "key chg", "deletes",
           "rejected", "held back", "exit", "bookmark");
    for (int i = 0; i < n; i++) {
        const pub_stats *st = &runs[i].st;
        char win[40];
        if (st->nothing) snprintf(win, sizeof win, "(nothing new)");
        else snprintf(win, sizeof win, "%lld..%lld", (long long)st->min_cv, (long long)st->max_cv);
        printf("%-20s %-15s %9ld %9ld %9ld %8ld %9ld %6d  %s\n", runs[i].name, win, st->upserted, st->key_changes,
               st->deletes, st->rejected, st->held, runs[i].status,
               st->nothing ? "unchanged" : st->advanced ? "moved" : "kept (sent again next run)");
    }
}

/* The instance of type "state" (the only one), or the one named; false
 * after saying why. */
static bool find_target(const instance_def *all, int n, const char *named, const char *dir, instance_def *out)
{
    int found = 0;
    for (int i = 0; i < n; i++)
        if (named ? !strcasecmp(all[i].name, named) : !strcasecmp(all[i].type, "state")) {
            *out = all[i];
            found++;
        }
    if (found == 1) return true;
    if (named) fprintf(stderr, "edhub: no instance named '%s' (see: edhub instances list --data %s)\n", named, dir);
    else if (!found)
        fprintf(stderr, "edhub: no instance of type 'state' in %s: create one (edhub instances create --data %s state "
                        "--type state) or name the target with --target-instance NAME\n", dir, dir);
    else fprintf(stderr, "edhub: several instances have type 'state'; name the target with --target-instance NAME\n");
    return false;
}

/* One round: every district in turn; the worst exit status. */
static int round_of_districts(const pub_cli *base, const instance_def *all, int n, const instance_def *target,
                              const model *m, const profile_set *ps, store *ts, api_token_cache *tokens,
                              district_run *runs, int *nd)
{
    int status = 0;
    for (int i = 0; i < n && !publish_interrupted; i++) {
        if (strcasecmp(all[i].type, "district")) continue;
        pub_cli c = *base;
        c.src_dir = all[i].dir;
        c.tgt_dir = base->tgt_api ? NULL : target->dir;
        if (check_ends(&c)) return 2;
        c.o.source_name = all[i].name; /* lineage and bookmarks name the district */
        c.o.target_name = base->o.target_name ? base->o.target_name : base->tgt_api ? base->tgt_api : target->name;
        c.o.state_path = NULL;
        if (!base->o.errors_path) {
            snprintf(c.errors, sizeof c.errors, "%s/publish-errors-%s.jsonl", c.tgt_dir ? c.tgt_dir : ".", all[i].name);
            c.o.errors_path = c.errors;
        }
        c.o.lineage = c.tgt_dir && !c.no_lineage;
        defaults(&c);
        district_run *r = &runs[(*nd)++];
        memset(r, 0, sizeof *r);
        snprintf(r->name, sizeof r->name, "%s", all[i].name);
        store *ss = open_source(&c, m);
        if (!ss) {
            r->status = 1;
            status = status > 1 ? status : 1;
            continue;
        }
        c.o.source = (pub_end){.s = ss, .dir = c.src_dir};
        c.o.target = (pub_end){.s = ts, .dir = c.tgt_dir, .url = c.tgt_api, .key = c.tgt_key, .secret = c.tgt_secret,
                               .token_cache = tokens};
        c.o.profiles = ps;
        c.o.stop = (const volatile int *)&publish_interrupted;
        r->status = publish_run(m, &c.o, &r->st);
        if (!r->st.nothing || r->status) print_summary(&c, &r->st, r->status);
        if (r->st.fatal[0]) fprintf(stderr, "edhub: %s: %s\n", all[i].name, r->st.fatal);
        if (r->st.interrupted) r->status = 130;
        if (r->status > status) status = r->status;
        store_close(ss);
    }
    return status;
}

/* edhub publish --data DIR --all-districts: every district into the state. */
static int run_all_districts(pub_cli *base)
{
    const char *dir = base->deployment;
    if (!dir || base->src_dir || base->src_api || base->src_inst || base->tgt_dir) {
        fprintf(stderr, "edhub: --all-districts takes --data DIR (the deployment), and as target --target-instance "
                        "NAME or --target-api URL (default: its instance of type 'state'); not --source-*\n");
        return 2;
    }
    admin_store *a = cli_open_admin(dir);
    if (!a) return 1;
    instance_def *all = NULL;
    int n = 0;
    err_t e = instances_list(a, dir, &all, &n);
    admin_close(a);
    if (e) return fprintf(stderr, "edhub: cannot read the instance registry of %s\n", dir), 1;
    instance_def target = {0};
    if (!base->tgt_api && !find_target(all, n, base->tgt_inst, dir, &target)) {
        free(all);
        return 2;
    }
    int status = 0, nd = 0;
    district_run *runs = calloc((size_t)n + 1, sizeof *runs);
    model *m = cli_load_model(base->model);
    profile_set *ps = NULL;
    store *ts = NULL;
    if (!m || !runs) goto out;
    if (base->o.profile) ps = cli_load_profiles(m, dir);
    if (!base->tgt_api && !base->o.dry_run && !(ts = open_local(target.dir, m, true))) {
        status = 1;
        goto out;
    }
    remote_global_init();
    struct sigaction sa = {0};
    sa.sa_handler = on_publish_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    api_token_cache tokens = {0}; /* one token for every district's run, and every round */
    for (long round = 1;; round++) {
        nd = 0;
        if (round > 1 && (a = cli_open_admin(dir))) { /* districts created since the last round join in */
            instance_def *now = NULL;
            int nnow = 0;
            if (instances_list(a, dir, &now, &nnow) == ERR_OK) {
                district_run *more = realloc(runs, sizeof *runs * ((size_t)nnow + 1));
                if (more) {
                    runs = more;
                    free(all);
                    all = now, n = nnow, now = NULL;
                }
            }
            free(now);
            admin_close(a);
        }
        status = round_of_districts(base, all, n, &target, m, ps, ts, &tokens, runs, &nd);
        bool quiet = base->every && round > 1 && status == 0;
        for (int i = 0; i < nd && quiet; i++) quiet = runs[i].st.nothing;
        if (!nd && status != 2) {
            fprintf(stderr, "edhub: no instance of type 'district' in %s (edhub instances create --data %s NAME --type "
                            "district ...)\n", dir, dir);
            status = 2;
        } else if (nd && !quiet) {
            if (base->every) printf("\nround %ld:", round);
            print_district_table(runs, nd);
            fflush(stdout);
        }
        if (!base->every || status == 2 || publish_interrupted) break;
        for (double waited = 0; waited < base->every && !publish_interrupted; waited += 0.1) usleep(100000);
        if (publish_interrupted) {
            remote_global_cleanup();
            goto out; /* a daemon told to stop: the last round's status */
        }
    }
    remote_global_cleanup();
    if (publish_interrupted) {
        fprintf(stderr, "edhub: interrupted; run the same command again to finish (nothing is duplicated)\n");
        status = 130;
    }
out:
    if (ts) store_close(ts);
    profile_set_free(ps);
    model_free(m);
    free(runs);
    free(all);
    return m ? status : 1;
}

int cmd_publish(int argc, char **argv)
{
    pub_cli c = {.o = {.since = -1, .progress = stderr}};
    int rc = parse_publish(argc, argv, &c);
    if (rc) return rc == 1 ? 0 : rc;
    if (c.all_districts) return run_all_districts(&c);
    if (c.deployment && !c.lineage_mode) {
        fprintf(stderr, "edhub: --data DIR goes with --all-districts (or use --source-data/--target-data DIR "
                        "with --source-instance/--target-instance NAME)\n");
        return 2;
    }
    if ((rc = resolve_instances(&c))) return rc;
    if (c.lineage_mode) return show_lineage(&c);
    if ((rc = check_ends(&c))) return rc;
    c.o.lineage = c.tgt_dir && !c.no_lineage;
    defaults(&c);
    model *m = cli_load_model(c.model);
    if (!m) return 1;
    int status = 1;
    store *ss = NULL, *ts = NULL;
    profile_set *ps = NULL;
    if (c.src_dir && !(ss = open_source(&c, m))) {
        status = c.src_snapshot && !strcmp(c.src_snapshot, "newest") ? 2 : 1;
        goto out;
    }
    if (c.tgt_dir && !c.o.dry_run && !(ts = open_local(c.tgt_dir, m, true))) goto out;
    c.o.source = (pub_end){.s = ss, .dir = c.src_dir, .url = c.src_api, .key = c.src_key, .secret = c.src_secret,
                           .snapshot = c.src_api ? c.src_snapshot : NULL};
    c.o.target = (pub_end){.s = ts, .dir = c.tgt_dir, .url = c.tgt_api, .key = c.tgt_key, .secret = c.tgt_secret};
    if (c.o.profile) c.o.profiles = ps = cli_load_profiles(m, c.src_dir ? c.src_dir : c.tgt_dir ? c.tgt_dir : ".");
    struct sigaction sa = {0};
    sa.sa_handler = on_publish_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    c.o.stop = (const volatile int *)&publish_interrupted;
    remote_global_init();
    pub_stats st;
    status = publish_run(m, &c.o, &st);
    remote_global_cleanup();
    print_summary(&c, &st, status);
    if (st.fatal[0]) fprintf(stderr, "edhub: %s\n", st.fatal);
    if (st.interrupted) {
        fprintf(stderr, "edhub: interrupted; run the same command again to finish (nothing is duplicated)\n");
        status = 130;
    }
out:
    profile_set_free(ps);
    if (ts) store_close(ts);
    if (ss) store_close(ss);
    model_free(m);
    return status;
}
