/* edhub: one binary, thin subcommands over the shared modules. */
#include "../api/api.h"
#include "../auth/auth.h"
#include "../base/arena.h"
#include "../base/buf.h"
#include "../base/jsonx.h"
#include "../base/conf.h"
#include "../base/log.h"
#include "../base/uuid.h"
#include "../deploy/instances.h"
#include "../engine/engine.h"
#include "../load/jsonl.h"
#include "../load/remote.h"
#include "../load/xml.h"
#include "../model/model.h"
#include "../profiles/profiles.h"
#include "../security/credentials.h"
#include "../store/store.h"
#include "cli.h"
#include <dirent.h>
#include <glob.h>
#include <errno.h>
#include <strings.h>
#include <pwd.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


static const char *usage_top =
    "usage: edhub <command> [options]\n"
    "\n"
    "Ed-Fi ODS/API 7.3 compatible server for Data Standard 5.2 (embedded SQLite store).\n"
    "\n"
    "commands:\n"
    "  init    create an ODS instance with a full-access API client and bootstrap data\n"
    "  serve   serve an instance over HTTP\n"
    "  load    load XML interchanges and JSON lines into an instance, or into any Ed-Fi API (--api)\n"
    "  gen     generate a synthetic Ed-Fi state (JSON lines or XML) to load\n"
    "  publish publish the changes of one instance or API into another (district -> state)\n"
    "  migrate bring an instance's storage schema up to this version\n"
    "  clients manage API clients (keys, secrets, claim sets, education organizations)\n"
    "  vendors manage vendors (namespace prefixes)\n"
    "  claimsets list, export and import claim sets\n"
    "  audit   show or verify the audit log of security changes and failed logins\n"
    "  instances create, list, change and remove the ODS instances of a deployment (district, state, year)\n"
    "  snapshot take, list and remove named read-only snapshots of an instance\n"
    "  help    show help for a command (edhub help init)\n"
    "  version print the version\n";

static const char *usage_init =
    "usage: edhub init --data DIR [--client-key K --client-secret S] [--claim-set NAME] [--bootstrap FILE | --empty]\n"
    "                  [--model FILE] [--database postgresql://USER@HOST/DB]\n"
    "\n"
    "Creates an ODS instance in DIR (DIR/" DB_FILE ") with one API client (claim set\n"
    "'" CRED_FULL_ACCESS "' unless --claim-set says otherwise) and loads the\n"
    "bootstrap set (DS 5.2 descriptors, school years, Grand Bend education organizations).\n"
    "Without --client-key/--client-secret a random pair is generated and printed.\n"
    "With --database the instance lives in that PostgreSQL database (DIR/" CONF_FILE " records it).\n"
    "Running init again on an existing DIR adds or resets that client and reloads the bootstrap\n"
    "set (upserts: nothing is duplicated).\n";

static const char *usage_serve =
    "usage: edhub serve --data DIR [--listen ADDR:PORT] [--threads N] [--model FILE] [--access-log FILE|-] [--public-url URL]\n"
    "                   [--tokens-per-client N] [--hide-existence]\n"
    "\n"
    "Serves the instance in DIR at http://ADDR:PORT (default 127.0.0.1:8080) until SIGINT/SIGTERM.\n"
    "--public-url URL is the base URL clients see (behind a reverse proxy); by default the Host header is used.\n"
    "--access-log appends one line per request (time, method, path, status, ms, client, correlation id).\n"
    "GET /health answers 200 while the instance is readable (for load balancers).\n"
    "--tokens-per-client caps the live tokens of one client (default 15, as ODS; 0 = no cap).\n"
    "--hide-existence answers 404 instead of Ed-Fi's 403 when a client asks for (GET, PUT, DELETE) a stored\n"
    "item it may not see, so that ids reveal nothing (stricter than ODS; claim-set refusals stay 403).\n"
    "Get a token: curl -u KEY:SECRET -d grant_type=client_credentials http://ADDR:PORT/oauth/token\n";

static const char *usage_load =
    "usage: edhub load --data DIR [--instance NAME] [--model FILE] [--dry-run] [--resume] [--errors FILE] PATH...\n"
    "       edhub load --api URL [--key K --secret S|-] [--connections N] [--no-batch] [--errors FILE] PATH...\n"
    "\n"
    "Loads files into the instance in DIR (the default one, or --instance NAME of the deployment: see\n"
    "edhub instances) through the same validation and integrity checks as the API. A PATH is a file or a folder (searched recursively), in any mix of:\n"
    "  FILE.jsonl   JSON lines, {\"resource\":\"/ed-fi/<endpoint>\",\"document\":{...}} each, upserted in\n"
    "               file order (put referenced documents first); loaded before any XML\n"
    "  FILE.xml     Ed-Fi DS 5.2 XML interchanges (the Bulk Load Client's format), mapped to API JSON by\n"
    "               the model and loaded in dependency order across all the files\n"
    "Loading is an upsert by natural key: running it again after a crash or Ctrl-C neither duplicates\n"
    "nor loses records. The number of records durably done is saved in DIR/load-resume.json about once\n"
    "a second; after a crash or Ctrl-C, the same command with --resume skips them (the same PATHs, files\n"
    "unchanged; otherwise it says so and loads nothing). Rejected records are written to DIR/load-errors.jsonl (file, line, resource,\n"
    "natural key when known, status, problem); the exit status is 1 when any record was rejected.\n"
    "Progress goes to stderr. --dry-run writes the JSON that XML records map to (JSON lines, loadable\n"
    "later) to stdout instead of loading them; it writes nothing, so it works while a server runs.\n"
    "\n"
    "--api URL loads into any Ed-Fi API over HTTP instead (an Ed-Fi ODS/API 7.x, or a running edhub):\n"
    "URL is its base URL (where GET / answers the discovery document, e.g. http://127.0.0.1:8080).\n"
    "The API client's key and secret come from --key/--secret (--secret - reads it from stdin) or from\n"
    "the environment variables EDHUB_KEY and EDHUB_SECRET (better: not in the process list). Records go\n"
    "as POSTs over --connections N keep-alive connections (default 8), one dependency level at a time;\n"
    "409 (a reference not there yet), 429 and 5xx answers and connection errors are sent again after the\n"
    "rest of the level (or JSON-lines file), with backoff, 5 attempts in all. When the API is edhub, its\n"
    "batch endpoint carries 500 records per request (--no-batch: one request per record). Rejected\n"
    "records, with the server's problem details, go to ./load-errors.jsonl (--errors FILE elsewhere).\n";

static const char *usage_migrate =
    "usage: edhub migrate --data DIR [--instance NAME]\n"
    "\n"
    "Brings the storage schema of every instance of the deployment in DIR (or only --instance NAME;\n"
    "each a SQLite file or PostgreSQL database) up to the\n"
    "version this edhub uses, one versioned step at a time, each in its own transaction, and rebuilds\n"
    "the relationship index of record-level authorization (education organization hierarchy,\n"
    "enrolments, staff assignments, contacts) from the stored documents. Running it again changes\n"
    "nothing. Stop the server of the instance first.\n";

static char exe_dir[PATH_MAX];

static void find_exe_dir(void)
{
    ssize_t n = readlink("/proc/self/exe", exe_dir, sizeof exe_dir - 1);
    if (n <= 0) {
        strcpy(exe_dir, ".");
        return;
    }
    exe_dir[n] = 0;
    char *slash = strrchr(exe_dir, '/');
    if (slash) *slash = 0;
}

/* A data file shipped with edhub: next to the binary, or installed. */
static const char *data_file(const char *rel, char *out, size_t n)
{
    const char *roots[] = {exe_dir, ".", "/usr/share/edhub"};
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
        snprintf(out, n, "%s/%s", roots[i], rel);
        if (access(out, R_OK) == 0) return out;
    }
    if ((size_t)snprintf(out, n, "%s/%s", exe_dir, rel) >= n) out[0] = 0;
    return out;
}

typedef struct opts {
    const char *data, *key, *secret, *bootstrap, *model, *listen, *access_log, *public_url, *database, *claim_set;
    const char *api, *api_key, *api_secret, *errors; /* load --api URL --key K --secret S, --errors FILE */
    const char *instance;                            /* load/migrate --instance NAME */
    char instance_dir[PATH_MAX];
    int connections;                                 /* load --api: requests in flight */
    bool empty, dry_run, bulk, hide_existence, no_batch, resume;
    int threads;
    int tokens_per_client;     /* serve: live tokens per client (0: default; -1: no cap) */
    bool takes_files;          /* positional FILE arguments allowed (load) */
    bool takes_instance;       /* --instance NAME allowed (load, migrate) */
    const char *files[256];
    int nfiles;
} opts;

static int parse_opts(int argc, char **argv, opts *o, const char *usage)
{
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            return 1;
        } else if (!strcmp(a, "--data")) slot = &o->data;
        else if (!strcmp(a, "--client-key")) slot = &o->key;
        else if (!strcmp(a, "--client-secret")) slot = &o->secret;
        else if (!strcmp(a, "--bootstrap")) slot = &o->bootstrap;
        else if (!strcmp(a, "--model")) slot = &o->model;
        else if (!strcmp(a, "--listen")) slot = &o->listen;
        else if (!strcmp(a, "--access-log")) slot = &o->access_log;
        else if (!strcmp(a, "--public-url")) slot = &o->public_url;
        else if (!strcmp(a, "--database")) slot = &o->database;
        else if (!strcmp(a, "--claim-set")) slot = &o->claim_set;
        else if (!strcmp(a, "--instance") && o->takes_instance) slot = &o->instance;
        else if (!strcmp(a, "--empty")) o->empty = true;
        else if (!strcmp(a, "--dry-run") && o->takes_files) o->dry_run = true;
        else if (!strcmp(a, "--resume") && o->takes_files) o->resume = true;
        else if (!strcmp(a, "--api") && o->takes_files) slot = &o->api;
        else if (!strcmp(a, "--key") && o->takes_files) slot = &o->api_key;
        else if (!strcmp(a, "--secret") && o->takes_files) slot = &o->api_secret;
        else if (!strcmp(a, "--errors") && o->takes_files) slot = &o->errors;
        else if (!strcmp(a, "--no-batch") && o->takes_files) o->no_batch = true;
        else if (!strcmp(a, "--connections") && o->takes_files) {
            if (i + 1 >= argc || (o->connections = atoi(argv[++i])) <= 0 || o->connections > 256) {
                fprintf(stderr, "edhub: --connections needs a number between 1 and 256\n");
                return 2;
            }
        }
        else if (!strcmp(a, "--hide-existence")) o->hide_existence = true;
        else if (!strcmp(a, "--threads")) {
            if (i + 1 >= argc || (o->threads = atoi(argv[++i])) <= 0 || o->threads > 256) {
                fprintf(stderr, "edhub: --threads needs a number between 1 and 256\n");
                return 2;
            }
        } else if (!strcmp(a, "--tokens-per-client")) {
            char *end = NULL;
            long v = i + 1 < argc ? strtol(argv[++i], &end, 10) : 0;
            if (!end || *end || v < 0 || v > 1000000) {
                fprintf(stderr, "edhub: --tokens-per-client needs a number (0 = no cap)\n");
                return 2;
            }
            o->tokens_per_client = v ? (int)v : -1;
        } else if (o->takes_files && a[0] != '-') {
            if (o->nfiles >= (int)(sizeof o->files / sizeof o->files[0])) {
                fprintf(stderr, "edhub: too many files (at most 256 per run)\n");
                return 2;
            }
            o->files[o->nfiles++] = a;
        } else {
            fprintf(stderr, "edhub: unknown option '%s'\n\n%s", a, usage);
            return 2;
        }
        if (slot && cli_option_value(argc, argv, &i, slot)) return 2;
    }
    if (o->api) {
        if (o->data) {
            fprintf(stderr, "edhub: give either --data DIR (a local instance) or --api URL (an API over HTTP), not both\n");
            return 2;
        }
        if (o->resume) {
            fprintf(stderr, "edhub: --resume goes with --data; a load with --api upserts: run it again to complete it\n");
            return 2;
        }
        return 0;
    }
    if (o->api_key || o->api_secret || o->connections || o->no_batch) {
        fprintf(stderr, "edhub: --key, --secret, --connections and --no-batch go with --api URL\n\n%s", usage);
        return 2;
    }
    int rc = cli_require_data(o->data, usage);
    if (rc || !o->instance) return rc;
    /* --instance NAME: the instance's own directory stands for DIR from
     * here on (its data, its load bookmark and error report). */
    if (!cli_resolve_instance(o->data, o->instance, o->instance_dir, sizeof o->instance_dir)) return 2;
    o->data = o->instance_dir;
    return 0;
}

int cli_option_value(int argc, char **argv, int *i, const char **slot)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "edhub: option %s needs a value\n", argv[*i]);
        return 2;
    }
    *slot = argv[++*i];
    return 0;
}

int cli_require_data(const char *data, const char *usage)
{
    if (data) return 0;
    fprintf(stderr, "edhub: --data DIR is required\n\n%s", usage);
    return 2;
}

const char *cli_data_file(const char *rel, char *out, size_t n) { return data_file(rel, out, n); }

const char *cli_actor(void)
{
    static char who[96];
    const struct passwd *pw = getpwuid(getuid());
    snprintf(who, sizeof who, "cli:%s", pw && pw->pw_name ? pw->pw_name : "?");
    return who;
}

claims *cli_load_claims(const char *dir)
{
    char base[PATH_MAX], names[PATH_MAX], mine[PATH_MAX], local[PATH_MAX], err[512];
    data_file("model/ds-5.2/security/claims.json", base, sizeof base);
    data_file("model/ds-5.2/security/claimset-names.json", names, sizeof names);
    data_file("model/ds-5.2/security/edhub-claimsets.json", mine, sizeof mine);
    snprintf(local, sizeof local, "%s/claimsets.json", dir);
    const char *extra[2] = {mine, local};
    claims *c = claims_load_with(base, names, extra, access(local, R_OK) == 0 ? 2 : 1, err, sizeof err);
    if (!c) fprintf(stderr, "edhub: cannot load the claim sets: %s\n", err);
    return c;
}

/* Adds the profiles of the XML files in dir (sorted by name) to ps. shipped:
 * edhub's own files, whose profiles a deployment's file of the same name
 * replaces (it is read first, and the first definition of a name wins). */
static void add_profile_dir(profile_set *ps, const char *dir, bool shipped)
{
    char pattern[PATH_MAX], err[1024];
    if ((size_t)snprintf(pattern, sizeof pattern, "%s/*.xml", dir) >= sizeof pattern) return;
    glob_t g;
    if (glob(pattern, 0, NULL, &g)) return; /* no such directory, or no files */
    for (size_t i = 0; i < g.gl_pathc; i++) {
        int before = profile_set_count(ps);
        err_t e = profile_set_add_file(ps, g.gl_pathv[i], err, sizeof err);
        if (e == ERR_OK) continue;
        if (shipped && strstr(err, "is already defined")) log_info("profiles: %s (the deployment's definition is used)", err);
        else if (profile_set_count(ps) > before)
            log_warn("profiles: %s (a request that uses this profile is answered 406: configured but invalid)", err);
        else log_warn("profiles: %s: file ignored: %s", g.gl_pathv[i], err);
    }
    globfree(&g);
}

profile_set *cli_load_profiles(const model *m, const char *dir)
{
    profile_set *ps = profile_set_new(m);
    char local[PATH_MAX], shipped[PATH_MAX];
    snprintf(local, sizeof local, "%s/profiles", dir);
    add_profile_dir(ps, local, false);
    add_profile_dir(ps, data_file("model/ds-5.2/profiles", shipped, sizeof shipped), true);
    return ps;
}

admin_store *cli_open_admin(const char *dir)
{
    char loc[PATH_MAX], err[512];
    if (!cli_instance_location(dir, loc, sizeof loc)) {
        fprintf(stderr, "edhub: no instance in %s (create one with: edhub init --data %s)\n", dir, dir);
        return NULL;
    }
    admin_store *a = NULL;
    if (admin_open(loc, &a, err, sizeof err) != ERR_OK) fprintf(stderr, "edhub: %s\n", err);
    return a;
}

static model *load_model(const opts *o) { return cli_load_model(o->model); }

model *cli_load_model(const char *file)
{
    char path[PATH_MAX], err[512];
    const char *p = file ? file : getenv("EDHUB_MODEL");
    if (!p) p = data_file("model/ds-5.2/ApiSchema.json", path, sizeof path);
    model *m = model_load(p, err, sizeof err);
    if (!m) fprintf(stderr, "edhub: cannot load the Ed-Fi model: %s\n(pass --model FILE or set EDHUB_MODEL)\n", err);
    return m;
}

/* The value of "name = value" in DIR/edhub.conf, if set. */
static bool conf_value(const char *dir, const char *name, char *out, size_t n)
{
    char conf[PATH_MAX];
    snprintf(conf, sizeof conf, "%s/" CONF_FILE, dir);
    return conf_get(conf, name, out, n);
}

/* Where an instance's data lives: DIR/edhub.conf may name a database
 * ("database = postgresql://..."); otherwise the SQLite file DIR/ods.sqlite.
 * Returns false when DIR holds no instance. */
bool cli_instance_location(const char *dir, char *out, size_t n)
{
    if (conf_value(dir, "database", out, n)) return true;
    snprintf(out, n, "%s/%s", dir, DB_FILE);
    return access(out, R_OK | W_OK) == 0;
}

/* Opens the store of the instance in dir (database: a PostgreSQL URL for
 * a new instance, or NULL). The model's resources (not descriptors)
 * become storage partitions where the backend partitions; the instance's
 * edhub.conf may name a read replica ("read_database = postgresql://..."). */
store *cli_open_store(const char *dir, const char *database, int readers, const model *m, bool migrate, bool bulk)
{
    return cli_open_store_ro(dir, database, readers, m, migrate, bulk, false);
}

store *cli_open_store_ro(const char *dir, const char *database, int readers, const model *m, bool migrate, bool bulk,
                         bool read_only)
{
    char path[PATH_MAX], replica[PATH_MAX], err[512];
    if (!cli_instance_location(dir, path, sizeof path) && !database)
        snprintf(path, sizeof path, "%s/%s", dir, DB_FILE); /* init creates it */
    if (database) snprintf(path, sizeof path, "%s", database);
    const char **names = xcalloc((size_t)m->nres + 1, sizeof *names);
    arena a;
    arena_init(&a, 1 << 14);
    int k = 0;
    for (int i = 0; i < m->nres; i++)
        if (!m->res[i].is_descriptor) names[k++] = arena_printf(&a, "%s/%s", m->res[i].project_endpoint, m->res[i].endpoint);
    /* Loads (no client waits on a single write) commit in large
     * transactions: each commit rewrites every page it touched, and the
     * random-key indexes touch a page per record, so fewer commits mean far
     * fewer bytes written (400k attendance events: 9.2 -> 2.5 GB written,
     * 38 -> 28 s); the server keeps the default for latency. */
    store_opts so = {.readers = readers, .resources = names, .migrate = migrate, .max_batch = bulk ? 16384 : 0, .bulk = bulk,
                     .read_only = read_only};
    if (conf_value(dir, "read_database", replica, sizeof replica)) so.read_location = replica;
    store *s = NULL;
    err_t e = store_open(path, &so, &s, err, sizeof err);
    free(names);
    arena_free(&a);
    if (e != ERR_OK) {
        fprintf(stderr, "edhub: %s\n", err);
        return NULL;
    }
    return s;
}

static store *open_store(const opts *o, int readers, const model *m, bool migrate)
{
    return cli_open_store(o->data, o->database, readers, m, migrate, o->bulk);
}

/* Opens the existing instance in o->data with its model; false (after
 * saying why) when there is none or it cannot be opened. */
static bool open_instance(const opts *o, int readers, bool migrate, model **m, store **s)
{
    char dbpath[PATH_MAX];
    if (!cli_instance_location(o->data, dbpath, sizeof dbpath)) {
        fprintf(stderr, "edhub: no instance in %s (create one with: edhub init --data %s)\n", o->data, o->data);
        return false;
    }
    if (!(*m = load_model(o))) return false;
    if (!(*s = open_store(o, readers, *m, migrate))) {
        model_free(*m);
        return false;
    }
    return true;
}

bool cli_write_database_conf(const char *dir, const char *database)
{
    if (strncmp(database, "postgresql://", 13) && strncmp(database, "postgres://", 11)) {
        fprintf(stderr, "edhub: --database must be a postgresql:// URL (leave it out for the embedded SQLite store)\n");
        return false;
    }
    /* The URL may carry a password: the file is private to the owner. */
    char conf[PATH_MAX];
    snprintf(conf, sizeof conf, "%s/" CONF_FILE, dir);
    FILE *cf = fopen(conf, "w");
    if (!cf || fchmod(fileno(cf), 0600) != 0) {
        fprintf(stderr, "edhub: cannot write %s: %s\n", conf, strerror(errno));
        if (cf) fclose(cf);
        return false;
    }
    fprintf(cf, "# edhub instance configuration\ndatabase = %s\n", database);
    fclose(cf);
    return true;
}

int cli_bootstrap(const model *m, store *s, const char *dir, const char *bootstrap)
{
    int status = 0;
    char bpath[PATH_MAX];
    const char *bp = bootstrap ? bootstrap : data_file("samples/bootstrap/bootstrap.jsonl", bpath, sizeof bpath);
    char errpath[PATH_MAX];
    snprintf(errpath, sizeof errpath, "%s/bootstrap-errors.jsonl", dir);
    FILE *errs = fopen(errpath, "w");
    load_stats st = {0};
    fprintf(stderr, "edhub: loading bootstrap data from %s\n", bp);
    sink *k = sink_new(m, s, "bootstrap", errs, &st);
    err_t le = load_jsonl(k, m, bp, stderr, &st);
    sink_free(k);
    if (le != ERR_OK) {
        fprintf(stderr, "edhub: cannot read %s (pass --bootstrap FILE, or --empty to skip)\n", bp);
        status = 1;
    } else if (st.rejected) {
        fprintf(stderr, "edhub: %ld bootstrap records were rejected; see %s\n", st.rejected, errpath);
        status = 1;
    }
    if (errs) fclose(errs);
    return status;
}

static int cmd_init(int argc, char **argv)
{
    opts o = {0};
    int rc = parse_opts(argc, argv, &o, usage_init);
    if (rc) return rc == 1 ? 0 : rc;
    if ((o.key == NULL) != (o.secret == NULL)) {
        fprintf(stderr, "edhub: give both --client-key and --client-secret, or neither\n");
        return 2;
    }
    if (mkdir(o.data, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "edhub: cannot create %s: %s\n", o.data, strerror(errno));
        return 1;
    }
    if (o.database && !cli_write_database_conf(o.data, o.database)) return 2;
    model *m = load_model(&o);
    if (!m) return 1;
    store *s = open_store(&o, 2, m, false);
    if (!s) {
        model_free(m);
        return 1;
    }
    char key[64], secret[64];
    if (o.key) {
        snprintf(key, sizeof key, "%s", o.key);
        snprintf(secret, sizeof secret, "%s", o.secret);
    } else {
        unsigned char raw[24];
        static const char al[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        random_bytes(raw, sizeof raw);
        for (int i = 0; i < 12; i++) key[i] = al[raw[i] % (sizeof al - 1)];
        key[12] = 0;
        random_bytes(raw, sizeof raw);
        for (int i = 0; i < 24; i++) secret[i] = al[raw[i] % (sizeof al - 1)];
        secret[24] = 0;
    }
    int status = 0;
    /* The client lives in the admin store (in the same database); running
     * init again resets its secret and claim set. */
    char loc[PATH_MAX], err[512], msg[512] = "";
    if (o.database) snprintf(loc, sizeof loc, "%s", o.database);
    else snprintf(loc, sizeof loc, "%s/" DB_FILE, o.data);
    admin_store *adm = NULL;
    claims *cl = cli_load_claims(o.data);
    if (!cl || admin_open(loc, &adm, err, sizeof err) != ERR_OK) {
        if (cl) fprintf(stderr, "edhub: %s\n", err);
        status = 1;
    } else {
        cred_actor who = {"edhub-init", NULL};
        cred_spec cs = {.key = key, .secret = secret, .claim_set = o.claim_set ? o.claim_set : CRED_FULL_ACCESS,
                        .name = "created by edhub init", .nedorgs = -1, .nnamespaces = -1, .enabled = 1};
        err_t e = cred_client_create(adm, cl, &cs, &who, NULL, NULL, NULL, msg, sizeof msg);
        if (e == ERR_CONFLICT) {
            e = cred_client_update(adm, cl, key, &cs, &who, msg, sizeof msg);
            if (!e) e = cred_client_reset(adm, key, secret, &who, NULL, msg, sizeof msg);
        }
        if (e) {
            fprintf(stderr, "edhub: cannot store the API client: %s\n", *msg ? msg : err_name(e));
            status = e == ERR_INVALID ? 2 : 1;
        }
    }
    admin_close(adm);
    claims_free(cl);
    if (!status && !o.empty) status = cli_bootstrap(m, s, o.data, o.bootstrap);
    store_close(s);
    model_free(m);
    if (!status) {
        printf("edhub: instance ready in %s\n", o.data);
        /* A generated secret is shown once; a given one is not echoed (logs). */
        if (o.key) printf("client key:    %s\nclient secret: (the one given with --client-secret)\n", key);
        else printf("client key:    %s\nclient secret: %s\n", key, secret);
    }
    return status;
}

typedef struct file_list { char **v; int n, cap; } file_list;

static void file_list_add(file_list *l, const char *path)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->v = xrealloc(l->v, sizeof(char *) * (size_t)l->cap);
    }
    l->v[l->n++] = xstrdup(path);
}

static void file_list_free(file_list *l)
{
    for (int i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static bool has_suffix(const char *s, const char *suffix)
{
    size_t l = strlen(s), k = strlen(suffix);
    return l > k && !strcasecmp(s + l - k, suffix);
}

/* Files named, and in folders (recursively, sorted): .jsonl/.ndjson into
 * jl, .xml into xl. A file named explicitly counts as JSON lines unless it
 * ends in .xml. */
static bool collect_files(const char *path, file_list *jl, file_list *xl, int depth)
{
    struct stat st;
    if (stat(path, &st) != 0) return false;
    if (!S_ISDIR(st.st_mode)) {
        file_list_add(has_suffix(path, ".xml") ? xl : jl, path);
        return true;
    }
    if (depth > 16) return true;
    DIR *d = opendir(path);
    if (!d) return false;
    file_list names = {0};
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char full[PATH_MAX];
        if ((size_t)snprintf(full, sizeof full, "%s/%s", path, e->d_name) >= sizeof full) continue;
        file_list_add(&names, full);
    }
    closedir(d);
    qsort(names.v, (size_t)names.n, sizeof(char *), cmp_names);
    bool ok = true;
    for (int i = 0; i < names.n && ok; i++) {
        struct stat s2;
        if (stat(names.v[i], &s2) != 0) continue;
        if (S_ISDIR(s2.st_mode)) ok = collect_files(names.v[i], jl, xl, depth + 1);
        else if (has_suffix(names.v[i], ".xml")) file_list_add(xl, names.v[i]);
        else if (has_suffix(names.v[i], ".jsonl") || has_suffix(names.v[i], ".ndjson")) file_list_add(jl, names.v[i]);
    }
    file_list_free(&names);
    return ok;
}

/* Reads the secret from stdin (--secret -): the first line. */
static const char *secret_from_stdin(char *out, size_t n)
{
    if (!fgets(out, (int)n, stdin)) return NULL;
    out[strcspn(out, "\r\n")] = 0;
    return out;
}

/* edhub load --dry-run: the JSON that the XML records map to goes to stdout
 * (JSON lines, loadable later); nothing is written or sent, so the instance
 * is not opened (a server may be running on it). */
static int load_dry_run(const opts *o, file_list *jl, file_list *xl)
{
    model *m = load_model(o);
    if (!m) return 1;
    load_stats total = {0};
    if (jl->n)
        fprintf(stderr, "edhub: --dry-run: %d JSON-lines file%s left out (nothing to map)\n", jl->n, jl->n > 1 ? "s" : "");
    if (xl->n) load_xml_to(NULL, m, (const char *const *)xl->v, xl->n, stderr, stdout, &total);
    fprintf(stderr, "edhub: %ld records mapped\n", total.lines);
    model_free(m);
    return 0;
}

/* edhub load --api: the same files, sent to an Ed-Fi API over HTTP. */
static int load_remote(const opts *o, file_list *jl, file_list *xl)
{
    model *m = load_model(o);
    if (!m) return 1;
    load_stats total = {0};
    int status = 0;
    char secret_buf[1024];
    remote_opts ro = {.url = o->api, .connections = o->connections, .no_batch = o->no_batch, .log = stderr};
    ro.key = o->api_key ? o->api_key : getenv("EDHUB_KEY");
    ro.secret = o->api_secret ? o->api_secret : getenv("EDHUB_SECRET");
    if (ro.secret && !strcmp(ro.secret, "-")) ro.secret = secret_from_stdin(secret_buf, sizeof secret_buf);
    if (!ro.key || !*ro.key || !ro.secret || !*ro.secret) {
        fprintf(stderr, "edhub: --api needs the API client's key and secret: --key K --secret S (--secret - reads it "
                        "from stdin), or the environment variables EDHUB_KEY and EDHUB_SECRET\n");
        model_free(m);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    remote_global_init();
    char err[1024];
    remote *rm = remote_open(m, &ro, &total, err, sizeof err);
    /* The report is written once the API answers: a run that cannot connect keeps the last one. */
    const char *errpath = o->errors ? o->errors : "load-errors.jsonl";
    FILE *errs = rm ? fopen(errpath, "w") : NULL;
    if (rm && !errs)
        snprintf(err, sizeof err, "cannot write the error report %s: %s (choose another with --errors FILE)", errpath,
                 strerror(errno));
    if (!errs) {
        fprintf(stderr, "edhub: %s\n", err);
        remote_close(rm);
        remote_global_cleanup();
        model_free(m);
        return 1;
    }
    remote_set_errors(rm, errs);
    load_target t;
    remote_target(rm, &t);
    for (int i = 0; i < jl->n && !status && !t.stopped(t.ctx); i++) {
        fprintf(stderr, "edhub: loading %s\n", jl->v[i]);
        if (load_jsonl_to(&t, m, jl->v[i], stderr, &total) != ERR_OK) {
            fprintf(stderr, "edhub: cannot read %s\n", jl->v[i]);
            status = 1;
        }
    }
    if (!status && xl->n && !t.stopped(t.ctx)) {
        fprintf(stderr, "edhub: loading %d XML interchange file%s in dependency order\n", xl->n, xl->n > 1 ? "s" : "");
        load_xml_to(&t, m, (const char *const *)xl->v, xl->n, stderr, NULL, &total);
    }
    t.drain(t.ctx);
    long unsent = 0;
    char why[1024] = "";
    const char *stopped = remote_stopped(rm, &unsent);
    if (stopped) snprintf(why, sizeof why, "%s", stopped);
    remote_close(rm);
    remote_global_cleanup();
    fclose(errs);
    model_free(m);
    printf("edhub: %ld records: %ld created, %ld updated, %ld rejected\n", total.lines, total.created, total.updated,
           total.rejected);
    if (why[0]) {
        fprintf(stderr, "edhub: stopped: %s; %ld record%s not sent\n", why, unsent, unsent == 1 ? " was" : "s were");
        status = 1;
    }
    if (total.rejected) {
        fprintf(stderr, "edhub: rejected records are listed in %s\n", errpath);
        status = 1;
    }
    return status;
}

static volatile sig_atomic_t load_interrupted;
static void on_load_signal(int sig)
{
    (void)sig;
    load_interrupted = 1;
}

/* What identifies the inputs of a load, in the order they are read: each
 * file's path, size and modification time. A resumed load must see the same. */
static char *load_inputs(const file_list *jl, const file_list *xl)
{
    buf b;
    buf_init(&b, 256);
    for (int pass = 0; pass < 2; pass++) {
        const file_list *l = pass ? xl : jl;
        for (int i = 0; i < l->n; i++) {
            struct stat st;
            if (stat(l->v[i], &st) != 0) memset(&st, 0, sizeof st);
            buf_printf(&b, "%s\t%lld\t%lld\n", l->v[i], (long long)st.st_size, (long long)st.st_mtime);
        }
    }
    return buf_take(&b);
}

/* The records an interrupted load of the same inputs finished: 0 when there
 * is nothing to resume, -1 (after saying why) when it cannot be resumed. */
static long load_resume_point(const char *path, const char *inputs)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "edhub: no interrupted load to resume (%s is missing): loading everything\n", path);
        return 0;
    }
    char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    json_object *o = json_tokener_parse(text);
    const char *was = o ? jsonx_str(o, "inputs") : NULL;
    json_object *rec = o ? jsonx_get(o, "records") : NULL, *complete = o ? jsonx_get(o, "complete") : NULL;
    long done = rec ? (long)json_object_get_int64(rec) : -1;
    long point = -1;
    if (!was || done < 0)
        fprintf(stderr, "edhub: %s is not a load bookmark; delete it and load without --resume\n", path);
    else if (strcmp(was, inputs) != 0)
        fprintf(stderr,
                "edhub: the files differ from those of the interrupted load (names, sizes or times in %s);\n"
                "       load without --resume (upserts: nothing is duplicated)\n", path);
    else if (complete && json_object_get_boolean(complete))
        fprintf(stderr, "edhub: the last load of these files finished; loading them again (upserts)\n"), point = 0;
    else
        point = done;
    json_object_put(o);
    return point;
}

static int cmd_load(int argc, char **argv)
{
    opts o = {.takes_files = true, .takes_instance = true, .bulk = true};
    int rc = parse_opts(argc, argv, &o, usage_load);
    if (rc) return rc == 1 ? 0 : rc;
    if (!o.nfiles) {
        fprintf(stderr, "edhub: name at least one FILE.jsonl, FILE.xml or folder to load\n\n%s", usage_load);
        return 2;
    }
    file_list jl = {0}, xl = {0};
    for (int i = 0; i < o.nfiles; i++) {
        if (!collect_files(o.files[i], &jl, &xl, 0)) {
            fprintf(stderr, "edhub: cannot read %s: %s\n", o.files[i], strerror(errno));
            file_list_free(&jl), file_list_free(&xl);
            return 1;
        }
    }
    if (!jl.n && !xl.n) {
        fprintf(stderr, "edhub: no .jsonl or .xml file found in what was named\n");
        return 2;
    }
    if (o.dry_run || o.api) {
        int st = o.dry_run ? load_dry_run(&o, &jl, &xl) : load_remote(&o, &jl, &xl);
        file_list_free(&jl), file_list_free(&xl);
        return st;
    }
    model *m;
    store *s;
    if (!open_instance(&o, 2, false, &m, &s)) {
        file_list_free(&jl), file_list_free(&xl);
        return 1;
    }
    char errpath[PATH_MAX];
    if (o.errors) snprintf(errpath, sizeof errpath, "%s", o.errors);
    else snprintf(errpath, sizeof errpath, "%s/load-errors.jsonl", o.data);
    char bookpath[PATH_MAX];
    snprintf(bookpath, sizeof bookpath, "%s/load-resume.json", o.data);
    char *inputs = load_inputs(&jl, &xl);
    long skip = o.resume ? load_resume_point(bookpath, inputs) : 0;
    if (skip < 0) {
        free(inputs);
        store_close(s);
        model_free(m);
        file_list_free(&jl), file_list_free(&xl);
        return 2;
    }
    /* A resumed run adds to the error report of the interrupted one. */
    FILE *errs = fopen(errpath, skip > 0 ? "a" : "w");
    int status = 0;
    load_stats total = {0};
    sink *k = sink_new(m, s, "load", errs, &total);
    sink_resume(k, bookpath, inputs, skip);
    if (skip > 0) fprintf(stderr, "edhub: resuming: skipping the %ld records the interrupted load finished\n", skip);
    free(inputs);
    struct sigaction sa = {0};
    sa.sa_handler = on_load_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sink_stop_on(k, &load_interrupted);
    for (int i = 0; i < jl.n && !status; i++) {
        fprintf(stderr, "edhub: loading %s\n", jl.v[i]);
        if (load_jsonl(k, m, jl.v[i], stderr, &total) != ERR_OK) {
            fprintf(stderr, "edhub: cannot read %s\n", jl.v[i]);
            status = 1;
        }
    }
    if (!status && xl.n) {
        fprintf(stderr, "edhub: loading %d XML interchange file%s in dependency order\n", xl.n, xl.n > 1 ? "s" : "");
        load_xml(k, m, (const char *const *)xl.v, xl.n, stderr, NULL, &total);
    }
    sink_drain(k);
    sink_save_bookmark(k, !load_interrupted && !status);
    long done = sink_done_prefix(k);
    sink_free(k);
    if (errs) fclose(errs);
    store_close(s);
    model_free(m);
    file_list_free(&jl), file_list_free(&xl);
    fprintf(stdout, "edhub: %ld records: %ld created, %ld updated, %ld rejected", total.lines,
            total.created, total.updated, total.rejected);
    fprintf(stdout, total.skipped ? ", %ld skipped (done by the interrupted load)\n" : "\n",
            total.skipped);
    if (load_interrupted) {
        fprintf(stderr, "edhub: interrupted after %ld records; to continue, run the same command with --resume\n", done);
        return 130;
    }
    if (total.rejected) {
        fprintf(stderr, "edhub: rejected records are listed in %s\n", errpath);
        status = 1;
    }
    return status;
}

/* Migrates the store of one instance directory; 0 or 1. */
static int migrate_one(opts *o, const char *name)
{
    model *m;
    store *s;
    if (!open_instance(o, 1, true, &m, &s)) return 1;
    printf("edhub: instance %s (%s) is at storage schema version %d (current)\n", name, o->data, store_schema_version(s));
    /* The relationship index is derived data: rebuilding it is idempotent,
     * and fills it for data written before it existed. */
    long n = 0;
    err_t e = engine_reindex(s, m, &n);
    if (e) fprintf(stderr, "edhub: cannot rebuild the authorization relationship index of %s: %s\n", name, err_name(e));
    else printf("edhub: authorization relationship index rebuilt from %ld documents (instance %s)\n", n, name);
    store_close(s);
    model_free(m);
    return e ? 1 : 0;
}

static int cmd_migrate(int argc, char **argv)
{
    opts o = {.takes_instance = true};
    int rc = parse_opts(argc, argv, &o, usage_migrate);
    if (rc) return rc == 1 ? 0 : rc;
    if (o.instance) return migrate_one(&o, o.instance);
    const char *dir = o.data;
    admin_store *adm = cli_open_admin(dir); /* also moves older API clients into the admin store */
    if (!adm) return 1;
    instance_def *all = NULL;
    int n = 0;
    err_t e = instances_list(adm, dir, &all, &n);
    admin_close(adm);
    if (e) {
        fprintf(stderr, "edhub: cannot read the instance registry: %s\n", err_name(e));
        return 1;
    }
    int status = 0;
    for (int i = 0; i < n; i++) {
        o.data = all[i].dir;
        status |= migrate_one(&o, all[i].name);
    }
    free(all);
    return status;
}

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* The deployment's instances, each with its open store; false after
 * saying why. */
static bool open_instances(admin_store *adm, const opts *o, const model *m, int readers, instance_def **defs,
                           store ***stores, int *n)
{
    if (instances_list(adm, o->data, defs, n) != ERR_OK) {
        fprintf(stderr, "edhub: cannot read the instance registry of %s\n", o->data);
        return false;
    }
    *stores = xcalloc((size_t)*n, sizeof(store *));
    for (int i = 0; i < *n; i++) {
        char loc[PATH_MAX];
        if (!cli_instance_location((*defs)[i].dir, loc, sizeof loc)) {
            fprintf(stderr, "edhub: the instance %s has no data in %s (remove it with: edhub instances remove --data %s %s)\n",
                    (*defs)[i].name, (*defs)[i].dir, o->data, (*defs)[i].name);
            return false;
        }
        if (!((*stores)[i] = cli_open_store((*defs)[i].dir, NULL, readers, m, false, false))) return false;
    }
    return true;
}

/* The route template and tenant of DIR/edhub.conf; false after saying
 * what is wrong. */
static bool read_routing(const char *dir, route_template *t, char *tenant, size_t n, bool *has_tenant)
{
    char text[512] = "", err[256];
    conf_value(dir, "route_template", text, sizeof text);
    if (!route_template_parse(text, t, err, sizeof err)) {
        fprintf(stderr, "edhub: %s/" CONF_FILE ": route_template: %s\n", dir, err);
        return false;
    }
    *has_tenant = conf_value(dir, "tenant", tenant, n);
    if (*has_tenant && !instance_name_ok(tenant)) {
        fprintf(stderr, "edhub: %s/" CONF_FILE ": tenant must be 1-64 letters, digits, '-' or '_'\n", dir);
        return false;
    }
    return true;
}

#define RELOAD_SECONDS 2

typedef struct reloader {
    const model *m;
    int readers;
    time_t last_warning;
} reloader;

/* Opens a registered instance's store; create (the Admin API's POST
 * /v2/odsInstances) makes its directory and store first, an empty one. */
static store *reload_open(const instance_def *d, bool create, void *ctx)
{
    reloader *rl = ctx;
    char loc[PATH_MAX], parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", d->dir);
    char *slash = strrchr(parent, '/');
    if (slash) *slash = 0;
    if (create && ((mkdir(parent, 0755) && errno != EEXIST) || (mkdir(d->dir, 0755) && errno != EEXIST))) {
        log_warn("instances: cannot create %s: %s", d->dir, strerror(errno));
        return NULL;
    }
    store *s = create || cli_instance_location(d->dir, loc, sizeof loc)
                   ? cli_open_store(d->dir, NULL, create ? 1 : rl->readers, rl->m, false, false)
                   : NULL;
    if (create) return s;
    if (s) log_info("instances: serving %s (%s)", d->name, d->dir);
    else if (time(NULL) - rl->last_warning >= 60) { /* retried every few seconds: say it now and then */
        rl->last_warning = time(NULL);
        log_warn("instances: %s has no readable data in %s; not served", d->name, d->dir);
    }
    return s;
}

static int cmd_serve(int argc, char **argv)
{
    opts o = {0};
    int rc = parse_opts(argc, argv, &o, usage_serve);
    if (rc) return rc == 1 ? 0 : rc;
    char addr[64] = "127.0.0.1";
    int port = 8080;
    if (o.listen) {
        const char *colon = strrchr(o.listen, ':');
        char *end;
        long p = colon ? strtol(colon + 1, &end, 10) : -1;
        if (!colon || *end || p < 0 || p > 65535 || (size_t)(colon - o.listen) >= sizeof addr) {
            fprintf(stderr, "edhub: --listen must be ADDR:PORT, e.g. 127.0.0.1:8080\n");
            return 2;
        }
        snprintf(addr, sizeof addr, "%.*s", (int)(colon - o.listen), o.listen);
        port = (int)p;
    }
    char public_url[512] = "";
    if (o.public_url) {
        size_t n = strlen(o.public_url);
        while (n && o.public_url[n - 1] == '/') n--;
        if ((strncmp(o.public_url, "http://", 7) && strncmp(o.public_url, "https://", 8)) || n >= sizeof public_url ||
            strpbrk(o.public_url, " \"<>\\{}|^`")) {
            fprintf(stderr, "edhub: --public-url must be an http(s) URL such as https://api.state.edu/ods\n");
            return 2;
        }
        snprintf(public_url, sizeof public_url, "%.*s", (int)n, o.public_url);
    }
    route_template tpl;
    char tenant[INST_NAME_MAX + 1] = "";
    bool has_tenant = false;
    if (!read_routing(o.data, &tpl, tenant, sizeof tenant, &has_tenant)) return 2;
    int threads = o.threads ? o.threads : 4;
    int status = 1;
    model *m = NULL;
    claims *cl = NULL;
    admin_store *adm = NULL;
    auth *au = NULL;
    profile_set *ps = NULL;
    instance_def *defs = NULL;
    store **stores = NULL;
    int ninst = 0;
    FILE *alog = NULL;
    api_server *srv = NULL;
    char loc[PATH_MAX];
    if (!cli_instance_location(o.data, loc, sizeof loc)) {
        fprintf(stderr, "edhub: no instance in %s (create one with: edhub init --data %s)\n", o.data, o.data);
        goto out;
    }
    if (!(m = load_model(&o)) || !(cl = cli_load_claims(o.data)) || !(adm = cli_open_admin(o.data))) goto out;
    if (!open_instances(adm, &o, m, threads * 2 + 2, &defs, &stores, &ninst)) goto out;
    au = auth_new(adm, cl, 1800, o.tokens_per_client ? o.tokens_per_client : AUTH_MAX_TOKENS_PER_CLIENT);
    ps = cli_load_profiles(m, o.data);
    if (profile_set_count(ps)) {
        buf names;
        buf_init(&names, 0);
        for (int i = 0; i < profile_set_count(ps); i++)
            buf_printf(&names, "%s%s%s", i ? ", " : "", profile_set_name(ps, i), profile_set_problem(ps, i) ? " (invalid)" : "");
        log_info("profiles: %s", names.data);
        buf_free(&names);
    }
    reloader rl = {.m = m, .readers = threads * 2 + 2};
    api_config cfg = {.deploy_dir = o.data, .open_instance = reload_open, .open_ctx = &rl,
                      .listen_addr = addr, .port = port, .threads = threads, .claims = cl, .admin = adm,
                      .profiles = ps, .hide_existence = o.hide_existence, .instances = defs, .stores = stores,
                      .ninstances = ninst, .route_template = &tpl, .tenant = has_tenant ? tenant : NULL};
    if (o.public_url) cfg.public_url = public_url;
    if (o.access_log) {
        alog = !strcmp(o.access_log, "-") ? stdout : fopen(o.access_log, "a");
        if (!alog) {
            fprintf(stderr, "edhub: cannot open the access log %s: %s\n", o.access_log, strerror(errno));
            goto out;
        }
        setvbuf(alog, NULL, _IOLBF, 0);
        cfg.access_log = alog;
    }
    char err[512];
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (api_start(&cfg, m, au, &srv, err, sizeof err) != ERR_OK) {
        fprintf(stderr, "edhub: %s\n", err);
        goto out;
    }
    char routes[INST_MAX_KEYS * (INST_KEY_MAX + 3) + 1];
    route_template_text(&tpl, routes, sizeof routes);
    log_info("edhub serving %s on http://%s:%d (Ed-Fi %s, %d resources; %d instance%s%s%s%s%s)", o.data, addr, port,
             m->project_version, m->nres, ninst, ninst == 1 ? "" : "s", has_tenant ? ", tenant " : "", tenant,
             tpl.nkeys ? ", routes /" : "", routes);
    /* Instances created, changed or removed with the CLI (or another
     * process) are served within RELOAD_SECONDS, without a restart. */
    for (int tick = 0; !stop_requested; tick++) {
        sleep(1);
        if (tick % RELOAD_SECONDS || stop_requested) continue;
        int added = 0, removed = 0;
        if (api_refresh_instances(srv, &added, &removed) && (added || removed))
            log_info("instances: %d added, %d removed; now serving the registry's", added, removed);
    }
    log_info("edhub stopping");
    api_stop(srv);
    status = 0;
out:
    if (alog && alog != stdout) fclose(alog);
    auth_free(au);
    profile_set_free(ps);
    admin_close(adm);
    claims_free(cl);
    for (int i = 0; i < ninst; i++) store_close(stores[i]);
    free(stores);
    free(defs);
    model_free(m);
    return status;
}

int main(int argc, char **argv)
{
    find_exe_dir();
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage_top, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } commands[] = {{"init", cmd_init},       {"serve", cmd_serve},     {"load", cmd_load},
                    {"migrate", cmd_migrate}, {"gen", cmd_gen},         {"clients", cmd_clients},
                    {"vendors", cmd_vendors}, {"claimsets", cmd_claimsets}, {"audit", cmd_audit},
                    {"instances", cmd_instances}, {"snapshot", cmd_snapshot}, {"publish", cmd_publish}};
    const char *cmd = argv[1];
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(cmd, commands[i].name)) return commands[i].run(argc, argv);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        puts("edhub 0.1.0 (Ed-Fi ODS/API 7.3, Data Standard 5.2)");
        return 0;
    }
    if (!strcmp(cmd, "help")) { /* edhub help X = edhub X --help */
        for (size_t i = 0; argc > 2 && i < sizeof commands / sizeof commands[0]; i++)
            if (!strcmp(argv[2], commands[i].name)) {
                char *args[] = {argv[0], argv[2], "--help", NULL};
                return commands[i].run(3, args);
            }
        fputs(usage_top, stdout);
        return 0;
    }
    fprintf(stderr, "edhub: unknown command '%s'\n\n%s", cmd, usage_top);
    return 2;
}
