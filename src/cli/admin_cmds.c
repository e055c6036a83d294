/* edhub clients | vendors | claimsets | audit: credential and security
 * administration from scripts (non-interactive, --json output). Every
 * change goes through src/security/credentials.c, which audits it. */
#include "cli.h"
#include "../base/arena.h"
#include "../base/jsonx.h"
#include "../model/model.h"
#include "../profiles/profiles.h"
#include "../security/credentials.h"
#include <errno.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *usage_clients =
    "usage: edhub clients <action> --data DIR [options]\n"
    "\n"
    "  create  --claim-set NAME [--key K] [--secret S|-] [--edorg ID]... [--namespace PREFIX]...\n"
    "          [--vendor NAME] [--name TEXT] [--application TEXT] [--profile NAME]... [--instance NAME]...\n"
    "          Key and secret are generated when not given (printed once). --secret - reads it from stdin.\n"
    "  list    every client (never secrets)\n"
    "  show    --key K\n"
    "  update  --key K [--claim-set NAME] [--edorg ID]... [--no-edorgs] [--namespace P]... [--no-namespaces]\n"
    "          [--vendor NAME] [--name TEXT] [--application TEXT] [--profile NAME]... [--instance NAME]...\n"
    "          --profile replaces the client's API profiles (--profile '' removes them all), --instance\n"
    "          its ODS instances\n"
    "  disable --key K    enable --key K    delete --key K\n"
    "  reset   --key K [--secret S|-]   a new secret (generated when not given)\n"
    "\n"
    "--profile NAME assigns an API profile (repeat for several): the client then reads and writes the\n"
    "resources it covers only through a profile (see README, API profiles).\n"
    "--instance NAME binds the client to an ODS instance of the deployment (repeat for several; see\n"
    "edhub instances list): it reads and writes only those (default: the instance 'default').\n"
    "--json prints JSON. Disabling, resetting, changing or deleting a client ends its live tokens\n"
    "(a running server notices within a second). Every change is recorded in the audit log\n"
    "(edhub audit). Secrets are stored only as PBKDF2-HMAC-SHA256 hashes.\n";

static const char *usage_vendors =
    "usage: edhub vendors <action> --data DIR [options]\n"
    "\n"
    "  create --name NAME [--namespace PREFIX]...   namespace prefixes for NamespaceBased resources\n"
    "  list                                         every vendor\n"
    "  delete --name NAME                           also deletes the vendor's clients\n"
    "\n"
    "Clients created with --vendor NAME get the vendor's namespace prefixes. --json prints JSON.\n";

static const char *usage_claimsets =
    "usage: edhub claimsets <action> --data DIR [options]\n"
    "\n"
    "  list                 claim sets: Ed-Fi's standard ones, edhub's, and the deployment's\n"
    "  export --name NAME   a claim set's grants, in the file format import reads\n"
    "  import FILE          validates FILE (claim sets in Ed-Fi's Claims.json format whose hierarchy\n"
    "                       nodes name existing resource claims) and makes it the deployment's\n"
    "                       claim-set file (DIR/claimsets.json); restart the server to apply it\n"
    "\n"
    "--json prints JSON (list).\n";

static const char *usage_audit =
    "usage: edhub audit --data DIR [--after SEQ] [--limit N] [--json] [--verify]\n"
    "\n"
    "Prints the append-only audit log: every credential and claim-set change (who, when, what,\n"
    "before/after without secrets) and every failed login. --verify recomputes the hash chain and\n"
    "exits 1 if any entry was altered or removed.\n";

#define MAX_LIST 256

typedef struct aopts {
    const char *data, *key, *secret, *claim_set, *vendor, *name, *application, *file;
    const char *edorg_text[MAX_LIST];
    int nedorgs;
    const char *namespaces[MAX_LIST];
    int nns;
    const char *profiles[MAX_LIST];
    int nprofiles;
    bool profiles_given;
    const char *instances[MAX_LIST];
    int ninstances;
    bool instances_given;
    bool no_edorgs, no_namespaces, json, verify;
    long long after, limit;
} aopts;

static int parse(int argc, char **argv, aopts *o, const char *usage)
{
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            return 1;
        }
        if (!strcmp(a, "--json")) o->json = true;
        else if (!strcmp(a, "--verify")) o->verify = true;
        else if (!strcmp(a, "--no-edorgs")) o->no_edorgs = true;
        else if (!strcmp(a, "--no-namespaces")) o->no_namespaces = true;
        else if (!strcmp(a, "--data")) slot = &o->data;
        else if (!strcmp(a, "--key")) slot = &o->key;
        else if (!strcmp(a, "--secret")) slot = &o->secret;
        else if (!strcmp(a, "--claim-set")) slot = &o->claim_set;
        else if (!strcmp(a, "--vendor")) slot = &o->vendor;
        else if (!strcmp(a, "--name")) slot = &o->name;
        else if (!strcmp(a, "--application")) slot = &o->application;
        else if (!strcmp(a, "--profile") || !strcmp(a, "--instance")) {
            const char *v;
            if (cli_option_value(argc, argv, &i, &v)) return 2;
            bool prof = !strcmp(a, "--profile");
            if ((prof ? o->nprofiles : o->ninstances) >= MAX_LIST) {
                fprintf(stderr, "edhub: at most %d values per option\n", MAX_LIST);
                return 2;
            }
            if (prof) {
                o->profiles_given = true;
                if (*v) o->profiles[o->nprofiles++] = v;
            } else {
                o->instances_given = true;
                if (*v) o->instances[o->ninstances++] = v;
            }
        } else if (!strcmp(a, "--edorg") || !strcmp(a, "--namespace") || !strcmp(a, "--after") || !strcmp(a, "--limit")) {
            const char *v;
            if (cli_option_value(argc, argv, &i, &v)) return 2;
            if (!strcmp(a, "--after") || !strcmp(a, "--limit")) {
                char *end;
                long long x = strtoll(v, &end, 10);
                if (*end || x < 0) {
                    fprintf(stderr, "edhub: %s needs a number\n", a);
                    return 2;
                }
                if (!strcmp(a, "--after")) o->after = x;
                else o->limit = x;
            } else if (o->nedorgs >= MAX_LIST || o->nns >= MAX_LIST) {
                fprintf(stderr, "edhub: at most %d values per option\n", MAX_LIST);
                return 2;
            } else if (!strcmp(a, "--edorg")) o->edorg_text[o->nedorgs++] = v;
            else o->namespaces[o->nns++] = v;
        } else if (a[0] != '-' && !o->file) o->file = a;
        else {
            fprintf(stderr, "edhub: unknown option '%s'\n\n%s", a, usage);
            return 2;
        }
        if (slot && cli_option_value(argc, argv, &i, slot)) return 2;
    }
    return cli_require_data(o->data, usage);
}

/* "--secret -": one line from stdin, so the secret stays out of ps and
 * shell history. */
static const char *read_secret(const char *given, char *buf, size_t n)
{
    if (!given || strcmp(given, "-")) return given;
    if (!fgets(buf, (int)n, stdin)) return NULL;
    buf[strcspn(buf, "\r\n")] = 0;
    return buf;
}

static bool need_key(const aopts *o)
{
    if (o->key) return true;
    fprintf(stderr, "edhub: --key K is required (see: edhub clients list)\n");
    return false;
}

static int fail(err_t e, const char *msg)
{
    fprintf(stderr, "edhub: %s\n", *msg ? msg : err_name(e));
    return e == ERR_INVALID || e == ERR_NOT_FOUND || e == ERR_CONFLICT ? 2 : 1;
}

/* Parses the --edorg values; false (said why) on a bad one. */
static bool edorg_ids(const aopts *o, int64_t *out)
{
    for (int i = 0; i < o->nedorgs; i++) {
        char *end;
        errno = 0;
        long long v = strtoll(o->edorg_text[i], &end, 10);
        if (*end || errno || v < 1) {
            fprintf(stderr, "edhub: --edorg '%s' is not an education organization id\n", o->edorg_text[i]);
            return false;
        }
        out[i] = v;
    }
    return true;
}

static void print_client(admin_store *a, const char *key, bool json)
{
    char *t = NULL;
    if (cred_get_json(a, "client", key, &t) != ERR_OK) return;
    if (json) puts(t);
    else {
        json_object *o = json_tokener_parse(t);
        json_object *inst = jsonx_get(o, "instances");
        printf("%-24s claim set: %s; enabled: %s; edorgs: %s; namespaces: %s; profiles: %s; instances: %s; vendor id: %lld\n", key,
               jsonx_str(o, "claimSet") ? jsonx_str(o, "claimSet") : "", jsonx_bool(o, "enabled") ? "yes" : "no",
               json_object_to_json_string_ext(jsonx_get(o, "edorgs"), JSON_C_TO_STRING_PLAIN),
               json_object_to_json_string_ext(jsonx_get(o, "namespaces"), JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
               jsonx_get(o, "profiles") ? json_object_to_json_string_ext(jsonx_get(o, "profiles"), JSON_C_TO_STRING_PLAIN)
                                        : "[]",
               inst ? json_object_to_json_string_ext(inst, JSON_C_TO_STRING_PLAIN) : "[\"default\"]",
               (long long)json_object_get_int64(jsonx_get(o, "vendorId")));
        json_object_put(o);
    }
    free(t);
}

/* Warns about assigned profiles a server of this instance cannot apply:
 * not installed, or invalid. The server then refuses the client's data
 * requests (fail closed), so a typo must not pass unnoticed. */
static void check_profiles(const aopts *o)
{
    if (!o->nprofiles) return;
    char mfile[PATH_MAX], err[512];
    const char *mp = getenv("EDHUB_MODEL");
    if (!mp) mp = cli_data_file("model/ds-5.2/ApiSchema.json", mfile, sizeof mfile);
    model *m = model_load(mp, err, sizeof err);
    if (!m) return;
    profile_set *ps = cli_load_profiles(m, o->data);
    for (int i = 0; i < o->nprofiles; i++) {
        int k = profile_set_find(ps, o->profiles[i]);
        if (k < 0)
            fprintf(stderr,
                    "edhub: warning: no profile named '%s' is installed (%s/profiles/*.xml or edhub's own); the "
                    "client's data requests are refused (406) until one is\n",
                    o->profiles[i], o->data);
        else if (profile_set_problem(ps, k))
            fprintf(stderr, "edhub: warning: profile '%s' is invalid (%s); the client's data requests are refused (406) "
                            "until it is fixed\n",
                    o->profiles[i], profile_set_problem(ps, k));
    }
    profile_set_free(ps);
    model_free(m);
}

int cmd_clients(int argc, char **argv)
{
    const char *act = argc > 2 ? argv[2] : "";
    if (!*act || !strcmp(act, "--help") || !strcmp(act, "-h")) {
        fputs(usage_clients, *act ? stdout : stderr);
        return *act ? 0 : 2;
    }
    aopts o = {0};
    int rc = parse(argc, argv, &o, usage_clients);
    if (rc) return rc == 1 ? 0 : rc;
    int64_t edorgs[MAX_LIST];
    if (!edorg_ids(&o, edorgs)) return 2;
    admin_store *a = cli_open_admin(o.data);
    if (!a) return 1;
    claims *cl = cli_load_claims(o.data);
    cred_actor who = {cli_actor(), NULL};
    char msg[512] = "", key[160] = "", secret[160] = "", sbuf[256];
    err_t e = ERR_OK;
    rc = 0;
    cred_spec s = {.nedorgs = -1, .nnamespaces = -1, .enabled = -1};
    s.claim_set = o.claim_set;
    int64_t vendor_id = 0;
    if (o.vendor && *o.vendor && cred_vendor_find(a, o.vendor, &vendor_id) != ERR_OK) {
        fprintf(stderr, "edhub: no vendor is named '%s' (create it with: edhub vendors create --name ...)\n", o.vendor);
        claims_free(cl);
        admin_close(a);
        return 2;
    }
    if (o.vendor) s.vendor_id = &vendor_id;
    s.name = o.name;
    s.application = o.application;
    if (o.nedorgs || o.no_edorgs) s.edorgs = edorgs, s.nedorgs = o.nedorgs;
    if (o.nns || o.no_namespaces) s.namespaces = o.namespaces, s.nnamespaces = o.nns;
    if (o.profiles_given) s.profiles = o.profiles, s.nprofiles = o.nprofiles;
    if (o.instances_given) s.instances = o.instances, s.ninstances = o.ninstances;
    if (!cl) {
        rc = 1;
    } else if (!strcmp(act, "create")) {
        s.key = o.key;
        s.secret = read_secret(o.secret, sbuf, sizeof sbuf);
        if (o.secret && !s.secret) e = ERR_INVALID, snprintf(msg, sizeof msg, "no secret on stdin");
        else e = cred_client_create(a, cl, &s, &who, key, secret, NULL, msg, sizeof msg);
        if (!e) check_profiles(&o);
        if (e) rc = fail(e, msg);
        else if (o.json) {
            printf("{\"key\":\"%s\"", key);
            if (!o.secret) printf(",\"secret\":\"%s\"", secret);
            puts("}");
        } else {
            printf("client key:    %s\n", key);
            if (!o.secret) printf("client secret: %s\n", secret);
        }
    } else if (!strcmp(act, "list")) {
        char *t = NULL;
        if ((e = cred_list(a, false, &t))) rc = fail(e, "cannot read the clients");
        else if (o.json) puts(t);
        else {
            json_object *arr = json_tokener_parse(t);
            for (size_t i = 0; arr && i < json_object_array_length(arr); i++)
                print_client(a, jsonx_str(json_object_array_get_idx(arr, i), "key"), false);
            json_object_put(arr);
        }
        free(t);
    } else if (!strcmp(act, "show")) {
        char *t = NULL;
        if (!need_key(&o)) rc = 2;
        else if ((e = cred_get_json(a, "client", o.key, &t))) {
            snprintf(msg, sizeof msg, "no client has the key '%s' (see: edhub clients list)", o.key);
            rc = fail(e, msg);
        } else print_client(a, o.key, o.json);
        free(t);
    } else if (!strcmp(act, "update") || !strcmp(act, "disable") || !strcmp(act, "enable")) {
        if (!strcmp(act, "disable")) s.enabled = 0;
        if (!strcmp(act, "enable")) s.enabled = 1;
        if (!need_key(&o)) rc = 2;
        else if ((e = cred_client_update(a, cl, o.key, &s, &who, msg, sizeof msg))) rc = fail(e, msg);
        else if (check_profiles(&o), !o.json) printf("edhub: client %s %sd\n", o.key, act);
        else print_client(a, o.key, true);
    } else if (!strcmp(act, "reset")) {
        const char *given = read_secret(o.secret, sbuf, sizeof sbuf);
        if (!need_key(&o)) rc = 2;
        else if (o.secret && !given) rc = fail(ERR_INVALID, "no secret on stdin");
        else if ((e = cred_client_reset(a, o.key, given, &who, secret, msg, sizeof msg))) rc = fail(e, msg);
        else if (o.json) printf(o.secret ? "{\"key\":\"%s\"}\n" : "{\"key\":\"%s\",\"secret\":\"%s\"}\n", o.key, secret);
        else if (!o.secret) printf("client key:    %s\nclient secret: %s\n", o.key, secret);
        else printf("edhub: the secret of client %s was reset\n", o.key);
    } else if (!strcmp(act, "delete")) {
        if (!need_key(&o)) rc = 2;
        else if ((e = cred_client_delete(a, o.key, &who, msg, sizeof msg))) rc = fail(e, msg);
        else if (!o.json) printf("edhub: client %s deleted\n", o.key);
    } else {
        fprintf(stderr, "edhub: unknown action 'clients %s'\n\n%s", act, usage_clients);
        rc = 2;
    }
    OPENSSL_cleanse(secret, sizeof secret);
    OPENSSL_cleanse(sbuf, sizeof sbuf);
    claims_free(cl);
    admin_close(a);
    return rc;
}

int cmd_vendors(int argc, char **argv)
{
    const char *act = argc > 2 ? argv[2] : "";
    if (!*act || !strcmp(act, "--help") || !strcmp(act, "-h")) {
        fputs(usage_vendors, *act ? stdout : stderr);
        return *act ? 0 : 2;
    }
    aopts o = {0};
    int rc = parse(argc, argv, &o, usage_vendors);
    if (rc) return rc == 1 ? 0 : rc;
    admin_store *a = cli_open_admin(o.data);
    if (!a) return 1;
    cred_actor who = {cli_actor(), NULL};
    char msg[512] = "";
    err_t e;
    if (!strcmp(act, "create")) {
        cred_vendor v = {.name = o.name, .namespaces = o.namespaces, .nnamespaces = o.nns};
        int64_t id = 0;
        if ((e = cred_vendor_create(a, &v, &who, &id, msg, sizeof msg))) rc = fail(e, msg);
        else if (o.json) printf("{\"id\":%lld}\n", (long long)id);
        else printf("edhub: vendor %s created (id %lld)\n", o.name, (long long)id);
    } else if (!strcmp(act, "delete")) {
        int64_t id = 0;
        if (!o.name) rc = fail(ERR_INVALID, "--name NAME is required");
        else if (cred_vendor_find(a, o.name, &id)) {
            snprintf(msg, sizeof msg, "no vendor is named '%s' (see: edhub vendors list)", o.name);
            rc = fail(ERR_NOT_FOUND, msg);
        } else if ((e = cred_vendor_delete(a, id, &who, msg, sizeof msg))) rc = fail(e, msg);
        else if (!o.json) printf("edhub: vendor %s deleted\n", o.name);
    } else if (!strcmp(act, "list")) {
        char *t = NULL;
        if ((e = cred_list(a, true, &t))) rc = fail(e, "cannot read the vendors");
        else if (o.json) puts(t);
        else {
            json_object *arr = json_tokener_parse(t);
            for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
                json_object *v = json_object_array_get_idx(arr, i);
                printf("%-30s namespaces: %s\n", jsonx_str(v, "name"),
                       json_object_to_json_string_ext(jsonx_get(v, "namespaces"),
                                                      JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
            }
            json_object_put(arr);
        }
        free(t);
    } else {
        fprintf(stderr, "edhub: unknown action 'vendors %s'\n\n%s", act, usage_vendors);
        rc = 2;
    }
    admin_close(a);
    return rc;
}

static bool copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    if (!in) return false;
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", to);
    FILE *out = fopen(tmp, "wb");
    bool ok = out != NULL;
    char b[65536];
    size_t n;
    while (ok && (n = fread(b, 1, sizeof b, in)) > 0) ok = fwrite(b, 1, n, out) == n;
    fclose(in);
    if (out && fclose(out)) ok = false;
    return ok && rename(tmp, to) == 0; /* all or nothing */
}

int cmd_claimsets(int argc, char **argv)
{
    const char *act = argc > 2 ? argv[2] : "";
    if (!*act || !strcmp(act, "--help") || !strcmp(act, "-h")) {
        fputs(usage_claimsets, *act ? stdout : stderr);
        return *act ? 0 : 2;
    }
    aopts o = {0};
    int rc = parse(argc, argv, &o, usage_claimsets);
    if (rc) return rc == 1 ? 0 : rc;
    if (!strcmp(act, "import")) {
        if (!o.file) {
            fprintf(stderr, "edhub: claimsets import needs a FILE\n");
            return 2;
        }
        char base[PATH_MAX], names[PATH_MAX], mine[PATH_MAX], err[512], dest[PATH_MAX];
        cli_data_file("model/ds-5.2/security/claims.json", base, sizeof base);
        cli_data_file("model/ds-5.2/security/claimset-names.json", names, sizeof names);
        cli_data_file("model/ds-5.2/security/edhub-claimsets.json", mine, sizeof mine);
        const char *extra[2] = {mine, o.file};
        claims *c = claims_load_with(base, names, extra, 2, err, sizeof err);
        if (!c) {
            fprintf(stderr, "edhub: %s is not a valid claim-set file: %s\n", o.file, err);
            return 2;
        }
        claims_free(c);
        admin_store *a = cli_open_admin(o.data);
        if (!a) return 1;
        snprintf(dest, sizeof dest, "%s/claimsets.json", o.data);
        if (!copy_file(o.file, dest)) {
            fprintf(stderr, "edhub: cannot write %s: %s\n", dest, strerror(errno));
            rc = 1;
        } else {
            admin_event ev = {.actor = cli_actor(), .action = "claimsets.import", .target = "claimsets:deployment"};
            admin_record(a, &ev);
            printf("edhub: %s is now the deployment's claim-set file; restart the server to apply it\n", dest);
        }
        admin_close(a);
        return rc;
    }
    claims *c = cli_load_claims(o.data);
    if (!c) return 1;
    if (!strcmp(act, "list")) {
        if (o.json) putchar('[');
        for (int i = 0; i < claims_set_count(c); i++) {
            if (o.json) {
                printf("%s{\"name\":\"%s\",\"systemReserved\":%s}", i ? "," : "", claims_set_name(c, i),
                       claims_set_reserved(c, i) ? "true" : "false");
            } else {
                printf("%s%s\n", claims_set_name(c, i), claims_set_reserved(c, i) ? " (system reserved)" : "");
            }
        }
        if (o.json) puts("]");
    } else if (!strcmp(act, "export")) {
        int set = o.name ? claims_set_index(c, o.name) : -1;
        if (set < 0) {
            fprintf(stderr, "edhub: no claim set is named '%s' (see: edhub claimsets list)\n", o.name ? o.name : "");
            rc = 2;
        } else {
            char *t = claims_export(c, set);
            puts(t);
            free(t);
        }
    } else {
        fprintf(stderr, "edhub: unknown action 'claimsets %s'\n\n%s", act, usage_claimsets);
        rc = 2;
    }
    claims_free(c);
    return rc;
}

int cmd_audit(int argc, char **argv)
{
    aopts o = {0};
    /* audit has no action word: shift by one so parse() sees options at 3 */
    char **v = xcalloc((size_t)argc + 2, sizeof *v);
    v[0] = argv[0];
    v[1] = argv[1];
    v[2] = (char *)"log";
    for (int i = 2; i < argc; i++) v[i + 1] = argv[i];
    int rc = parse(argc + 1, v, &o, usage_audit);
    free(v);
    if (rc) return rc == 1 ? 0 : rc;
    admin_store *a = cli_open_admin(o.data);
    if (!a) return 1;
    if (o.verify) {
        int64_t bad = 0, n = 0;
        err_t e = admin_audit_verify(a, &bad, &n);
        if (e) rc = fail(e, "cannot read the audit log");
        else if (bad) {
            printf("edhub: the audit log was altered: entry %lld does not match its hash chain (%lld entries checked)\n",
                   (long long)bad, (long long)n);
            rc = 1;
        } else printf("edhub: the audit log is intact (%lld entries)\n", (long long)n);
        admin_close(a);
        return rc;
    }
    char *t = NULL;
    err_t e = admin_audit(a, o.after, o.limit ? (int)o.limit : 1000, &t);
    if (e) rc = fail(e, "cannot read the audit log");
    else if (o.json) puts(t);
    else {
        json_object *arr = json_tokener_parse(t);
        for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
            json_object *x = json_object_array_get_idx(arr, i);
            printf("%6lld %s %-20s %-16s %s%s%s\n", (long long)json_object_get_int64(jsonx_get(x, "seq")),
                   jsonx_str(x, "at"), jsonx_str(x, "actor"), jsonx_str(x, "action"), jsonx_str(x, "target"),
                   jsonx_str(x, "address") ? " from " : "", jsonx_str(x, "address") ? jsonx_str(x, "address") : "");
        }
        json_object_put(arr);
    }
    free(t);
    admin_close(a);
    return rc;
}
