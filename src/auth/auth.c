#include "auth.h"
#include "../base/arena.h"
#include "../base/log.h"
#include "../base/uuid.h"
#include "../security/credentials.h"
#include <stdatomic.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_TOKENS 100000
/* Failed token requests counted per client key and per source address over
 * a window; past the limit, requests are refused (429) until the window
 * ends, without spending a PBKDF2 verification (ASVS: at most 100 failed
 * attempts per hour per account; each verification costs ~0.2 s of CPU). */
#define FAIL_WINDOW 900
#define FAIL_MAX_KEY 20
#define FAIL_MAX_ADDR 100
#define FAIL_SLOTS 4096
#define FAIL_PROBES 8
/* A verified (key, SHA-256 of secret, stored hash) is remembered this long,
 * so that a client fetching tokens does not pay PBKDF2 each time; a new
 * stored hash (reset) or a revocation forgets it. */
#define OK_TTL 900
#define OK_SLOTS 1024

/* Stored secrets use Ed-Fi ODS's packed format (security.md §1.10), so
 * that hashes can move between edhub and an EdFi_Admin database: base64 of
 * 0x00 | algorithm code (first 4 bytes of SHA-256 of its name) | iterations
 * (int32 LE) | salt length (int32 LE) | salt | 32-byte PBKDF2 key. */
static const unsigned char ALG_SHA256[4] = {0x48, 0x1e, 0x66, 0x85}; /* "PBKDF2-HMACSHA256" */
static const unsigned char ALG_SHA1[4] = {0xa2, 0x8b, 0xb9, 0xb8};   /* "PBKDF2-HMACSHA1" (older ODS) */
#define MAX_ITERATIONS 10000000

static void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

char *auth_hash_secret(const char *secret, int iterations)
{
    unsigned char blob[13 + 16 + 32];
    blob[0] = 0;
    memcpy(blob + 1, ALG_SHA256, 4);
    put_le32(blob + 5, (uint32_t)iterations);
    put_le32(blob + 9, 16);
    random_bytes(blob + 13, 16);
    if (!PKCS5_PBKDF2_HMAC(secret, (int)strlen(secret), blob + 13, 16, iterations, EVP_sha256(), 32, blob + 29))
        return NULL;
    char *out = xmalloc(4 * ((sizeof blob + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, blob, sizeof blob);
    OPENSSL_cleanse(blob, sizeof blob);
    return out;
}

/* edhub 0.1's own format: "pbkdf2-sha256$iter$salt_b64$key_b64". */
static bool verify_legacy(const char *secret, const char *stored)
{
    int iter = 0;
    char s64[64] = {0}, d64[128] = {0};
    if (sscanf(stored, "pbkdf2-sha256$%d$%63[^$]$%127s", &iter, s64, d64) != 3 || iter < 1 || iter > MAX_ITERATIONS)
        return false;
    unsigned char salt[64], want[96], got[32];
    int sl = EVP_DecodeBlock(salt, (const unsigned char *)s64, (int)strlen(s64));
    int wl = EVP_DecodeBlock(want, (const unsigned char *)d64, (int)strlen(d64));
    if (sl < 16 || wl < 32) return false;
    /* Base64 decoding pads; the salt and key lengths are fixed. */
    if (!PKCS5_PBKDF2_HMAC(secret, (int)strlen(secret), salt, 16, iter, EVP_sha256(), sizeof got, got)) return false;
    return CRYPTO_memcmp(got, want, sizeof got) == 0;
}

/* Whether a stored hash is weaker than what edhub writes now (edhub 0.1's
 * format, ODS's SHA1, fewer iterations): it is then re-hashed at the
 * client's next successful login (security.md §1.10, auto-upgrade). */
static bool outdated(const char *stored)
{
    if (!strncmp(stored, "pbkdf2-sha256$", 14)) return true;
    unsigned char blob[304];
    size_t n = strlen(stored);
    if (n < 24 || n > 400) return false;
    if (EVP_DecodeBlock(blob, (const unsigned char *)stored, (int)n) < 13) return false;
    return memcmp(blob + 1, ALG_SHA256, 4) != 0 || get_le32(blob + 5) < AUTH_PBKDF2_ITERATIONS;
}

bool auth_verify_secret(const char *secret, const char *stored)
{
    if (!strncmp(stored, "pbkdf2-sha256$", 14)) return verify_legacy(secret, stored);
    size_t n = strlen(stored);
    if (n < 4 || n % 4 || n > 400) return false;
    unsigned char blob[304];
    int len = EVP_DecodeBlock(blob, (const unsigned char *)stored, (int)n);
    if (len < 0) return false;
    len -= stored[n - 1] == '=' ? (stored[n - 2] == '=' ? 2 : 1) : 0; /* EVP_DecodeBlock counts the padding */
    if (len < 13 + 32 || blob[0] != 0) return false;
    const EVP_MD *md = !memcmp(blob + 1, ALG_SHA256, 4) ? EVP_sha256() : !memcmp(blob + 1, ALG_SHA1, 4) ? EVP_sha1() : NULL;
    uint32_t iter = get_le32(blob + 5), salt_len = get_le32(blob + 9);
    if (!md || iter < 1 || iter > MAX_ITERATIONS || salt_len < 8 || salt_len > 64 || (uint32_t)len != 13 + salt_len + 32)
        return false;
    unsigned char got[32];
    if (!PKCS5_PBKDF2_HMAC(secret, (int)strlen(secret), blob + 13, (int)salt_len, (int)iter, md, 32, got)) return false;
    return CRYPTO_memcmp(got, blob + 13 + salt_len, 32) == 0;
}

/* A token's grant: the public part first, so a pointer converts. */
typedef struct grant {
    auth_client c;
    _Atomic int refs;
    int64_t generation;       /* the client's generation at issue */
} grant;

typedef struct token {
    char token[65];
    char key[128];
    time_t expires;
    time_t checked;           /* when the client's state was last confirmed */
    grant *g;
} token;

typedef struct failrec {
    char who[140]; /* "k:" + client key, or "a:" + address */
    time_t start;
    int count;
} failrec;

typedef struct okrec {
    char key[128];
    unsigned char digest[32];
    char stored[256];
    time_t until;
} okrec;

struct auth {
    char *dummy_hash;     /* verified against for unknown keys: the same cost as a real one */
    admin_store *admin;
    const claims *claims;
    int ttl;
    int max_per_client;   /* live tokens per client key (ODS default 15; < 1 = no cap) */
    pthread_mutex_t mu;
    token *tokens;        /* open-addressing table keyed by token text */
    size_t cap, count;
    failrec *fails;       /* FAIL_SLOTS, hashed by who */
    okrec *oks;           /* OK_SLOTS, hashed by key */
};

auth *auth_new(admin_store *admin, const claims *cl, int ttl, int max_tokens_per_client)
{
    auth *a = xcalloc(1, sizeof *a);
    a->admin = admin;
    a->claims = cl;
    a->ttl = ttl > 0 ? ttl : 1800;
    a->max_per_client = max_tokens_per_client;
    a->fails = xcalloc(FAIL_SLOTS, sizeof *a->fails);
    a->oks = xcalloc(OK_SLOTS, sizeof *a->oks);
    a->cap = 1024;
    a->tokens = xcalloc(a->cap, sizeof(token));
    pthread_mutex_init(&a->mu, NULL);
    return a;
}

void auth_free(auth *a)
{
    if (!a) return;
    pthread_mutex_destroy(&a->mu);
    OPENSSL_cleanse(a->oks, sizeof *a->oks * OK_SLOTS);
    free(a->dummy_hash);
    for (size_t i = 0; i < a->cap; i++)
        if (a->tokens[i].g) auth_client_release(&a->tokens[i].g->c);
    free(a->tokens);
    free(a->fails);
    free(a->oks);
    free(a);
}

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Drops expired tokens, rebuilding the table (called under the lock). */
static void sweep(auth *a, size_t newcap)
{
    token *old = a->tokens;
    size_t oldcap = a->cap;
    time_t now = time(NULL);
    a->tokens = xcalloc(newcap, sizeof(token));
    a->cap = newcap;
    a->count = 0;
    for (size_t i = 0; i < oldcap; i++) {
        if (!old[i].token[0]) continue;
        if (old[i].expires <= now) {
            if (old[i].g) auth_client_release(&old[i].g->c);
            continue;
        }
        size_t j = hash_str(old[i].token) & (a->cap - 1);
        while (a->tokens[j].token[0]) j = (j + 1) & (a->cap - 1);
        a->tokens[j] = old[i];
        a->count++;
    }
    free(old);
}

/* The failure record of who (created when make), under the lock. Full
 * neighbourhoods recycle their oldest record. */
static failrec *fail_slot(auth *a, const char *who, bool make, time_t now)
{
    size_t h = hash_str(who);
    failrec *oldest = NULL;
    for (size_t i = 0; i < FAIL_PROBES; i++) {
        failrec *f = &a->fails[(h + i) & (FAIL_SLOTS - 1)];
        bool live = f->who[0] && f->start + FAIL_WINDOW > now;
        if (live && !strcmp(f->who, who)) return f;
        if (!live) {
            if (!make) continue;
            snprintf(f->who, sizeof f->who, "%s", who);
            f->start = now;
            f->count = 0;
            return f;
        }
        if (!oldest || f->start < oldest->start) oldest = f;
    }
    if (!make || !oldest) return NULL;
    snprintf(oldest->who, sizeof oldest->who, "%s", who);
    oldest->start = now;
    oldest->count = 0;
    return oldest;
}

/* Seconds until who may try again, or 0. */
static int blocked_for(auth *a, const char *who, int max, time_t now)
{
    failrec *f = fail_slot(a, who, false, now);
    return f && f->count >= max ? (int)(f->start + FAIL_WINDOW - now) : 0;
}

static okrec *ok_slot(auth *a, const char *key) { return &a->oks[hash_str(key) & (OK_SLOTS - 1)]; }

static void digest(const char *secret, unsigned char out[32])
{
    unsigned int n = 32;
    EVP_Digest(secret, strlen(secret), out, &n, EVP_sha256(), NULL);
}

void auth_client_release(const auth_client *c)
{
    if (!c) return;
    grant *g = (grant *)c;
    if (atomic_fetch_sub(&g->refs, 1) != 1) return;
    free(g->c.edorgs);
    for (int i = 0; i < g->c.nnamespaces; i++) free(g->c.namespaces[i]);
    free(g->c.namespaces);
    for (int i = 0; i < g->c.nprofiles; i++) free(g->c.profiles[i]);
    free(g->c.profiles);
    for (int i = 0; i < g->c.ninstances; i++) free(g->c.instances[i]);
    free(g->c.instances);
    free(g);
}

/* The grant of a verified client, narrowed to scope when > 0. */
static grant *grant_of(auth *a, const cred_client *c, int64_t scope)
{
    grant *g = xcalloc(1, sizeof *g);
    atomic_init(&g->refs, 1);
    snprintf(g->c.key, sizeof g->c.key, "%s", c->key);
    g->c.claim_set = a->claims ? claims_set_index(a->claims, c->claim_set) : -1;
    g->c.claim_set_name = g->c.claim_set >= 0 ? claims_set_name(a->claims, g->c.claim_set) : "";
    g->c.edorgs = xcalloc((size_t)c->nedorgs + 1, sizeof(int64_t));
    for (int i = 0; i < c->nedorgs; i++)
        if (!scope || c->edorgs[i] == scope) g->c.edorgs[g->c.nedorgs++] = c->edorgs[i];
    g->c.namespaces = xcalloc((size_t)c->nnamespaces + 1, sizeof(char *));
    for (int i = 0; i < c->nnamespaces; i++) g->c.namespaces[g->c.nnamespaces++] = xstrdup(c->namespaces[i]);
    g->c.profiles = xcalloc((size_t)c->nprofiles + 1, sizeof(char *));
    for (int i = 0; i < c->nprofiles; i++) g->c.profiles[g->c.nprofiles++] = xstrdup(c->profiles[i]);
    g->c.instances = xcalloc((size_t)c->ninstances + 1, sizeof(char *));
    for (int i = 0; i < c->ninstances; i++) g->c.instances[g->c.ninstances++] = xstrdup(c->instances[i]);
    g->c.scope = scope;
    g->generation = c->generation;
    return g;
}

err_t auth_issue_token(auth *a, const char *key, const char *secret, const char *addr, int64_t scope, char out[65],
                       int *expires_in, int *retry_after)
{
    char kwho[140], awho[140];
    snprintf(kwho, sizeof kwho, "k:%s", key);
    snprintf(awho, sizeof awho, "a:%s", addr && *addr ? addr : "?");
    time_t now = time(NULL);
    *retry_after = 0;
    pthread_mutex_lock(&a->mu);
    int wait_key = blocked_for(a, kwho, FAIL_MAX_KEY, now), wait_addr = blocked_for(a, awho, FAIL_MAX_ADDR, now);
    pthread_mutex_unlock(&a->mu);
    if (wait_key || wait_addr) {
        *retry_after = wait_key > wait_addr ? wait_key : wait_addr;
        log_info("auth: token request for key '%s' from %s refused: too many failed attempts", key, awho + 2);
        return ERR_THROTTLED;
    }
    cred_client c;
    err_t e = cred_client_load(a->admin, key, &c);
    if (e && e != ERR_NOT_FOUND) return e;
    bool ok = false;
    unsigned char d[32];
    digest(secret, d);
    if (e == ERR_NOT_FOUND) {
        /* An unknown key costs the same PBKDF2 as a wrong secret: the
         * answer's timing does not tell which keys exist. */
        pthread_mutex_lock(&a->mu);
        char *dummy = a->dummy_hash ? xstrdup(a->dummy_hash) : NULL;
        pthread_mutex_unlock(&a->mu);
        if (!dummy && (dummy = auth_hash_secret("edhub: no such client", AUTH_PBKDF2_ITERATIONS))) {
            pthread_mutex_lock(&a->mu); /* made outside the lock: ~0.1 s of CPU */
            if (!a->dummy_hash) a->dummy_hash = xstrdup(dummy);
            pthread_mutex_unlock(&a->mu);
        }
        if (dummy) (void)auth_verify_secret(secret, dummy);
        free(dummy);
    }
    if (!e) {
        pthread_mutex_lock(&a->mu);
        okrec *o = ok_slot(a, key);
        ok = o->until > now && !strcmp(o->key, key) && !strcmp(o->stored, c.secret_hash) &&
             !CRYPTO_memcmp(o->digest, d, 32);
        pthread_mutex_unlock(&a->mu);
        if (!ok && auth_verify_secret(secret, c.secret_hash)) {
            ok = true;
            char *better = outdated(c.secret_hash) ? auth_hash_secret(secret, AUTH_PBKDF2_ITERATIONS) : NULL;
            if (better && cred_client_rehash(a->admin, &c, better) == ERR_OK) {
                log_info("auth: the secret hash of client '%s' was upgraded to PBKDF2-HMAC-SHA256 x%d", key,
                         AUTH_PBKDF2_ITERATIONS);
                free(c.secret_hash);
                c.secret_hash = xstrdup(better);
            }
            free(better);
            pthread_mutex_lock(&a->mu);
            okrec *w = ok_slot(a, key);
            snprintf(w->key, sizeof w->key, "%s", key);
            snprintf(w->stored, sizeof w->stored, "%s", c.secret_hash);
            memcpy(w->digest, d, 32);
            w->until = now + OK_TTL;
            pthread_mutex_unlock(&a->mu);
        }
        /* A disabled client fails like a wrong secret (ODS: invalid_client),
         * after the same verification cost: no oracle for which keys exist. */
        if (ok && !c.enabled) ok = false;
    }
    OPENSSL_cleanse(d, sizeof d);
    now = time(NULL); /* verification takes time: the token's life starts now */
    if (!ok) {
        pthread_mutex_lock(&a->mu);
        failrec *fk = fail_slot(a, kwho, true, now), *fa = fail_slot(a, awho, true, now);
        if (fk) fk->count++;
        if (fa) fa->count++;
        pthread_mutex_unlock(&a->mu);
        log_info("auth: failed token request for key '%s' from %s", key, awho + 2);
        cred_login_failed(a->admin, key, awho + 2);
        cred_client_free(&c);
        return ERR_NOT_FOUND;
    }
    if (scope) {
        bool mine = false;
        for (int i = 0; i < c.nedorgs; i++) mine |= c.edorgs[i] == scope;
        if (!mine) {
            cred_client_free(&c);
            return ERR_INVALID;
        }
    }
    grant *g = grant_of(a, &c, scope);
    cred_client_free(&c);
    pthread_mutex_lock(&a->mu);
    failrec *fk = fail_slot(a, kwho, false, now);
    if (fk) fk->count = 0;
    if (a->max_per_client > 0) {
        int live = 0;
        for (size_t i = 0; i < a->cap; i++)
            live += a->tokens[i].token[0] && a->tokens[i].expires > now && !strcmp(a->tokens[i].key, key);
        if (live >= a->max_per_client) {
            pthread_mutex_unlock(&a->mu);
            auth_client_release(&g->c);
            return ERR_LIMIT;
        }
    }
    unsigned char raw[32];
    random_bytes(raw, sizeof raw);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[64] = 0;
    if ((a->count + 1) * 2 > a->cap) sweep(a, (a->count + 1) * 4 > a->cap ? a->cap * 2 : a->cap);
    if (a->count >= MAX_TOKENS) {
        pthread_mutex_unlock(&a->mu);
        auth_client_release(&g->c);
        return ERR_LIMIT;
    }
    size_t j = hash_str(out) & (a->cap - 1);
    while (a->tokens[j].token[0]) j = (j + 1) & (a->cap - 1);
    memcpy(a->tokens[j].token, out, 65);
    snprintf(a->tokens[j].key, sizeof a->tokens[j].key, "%s", key);
    a->tokens[j].expires = now + a->ttl;
    a->tokens[j].checked = now;
    a->tokens[j].g = g;
    a->count++;
    pthread_mutex_unlock(&a->mu);
    *expires_in = a->ttl;
    return ERR_OK;
}

void auth_revoke_token(auth *a, const char *tok)
{
    if (strlen(tok) != 64) return;
    pthread_mutex_lock(&a->mu);
    size_t j = hash_str(tok) & (a->cap - 1);
    for (size_t probes = 0; probes < a->cap && a->tokens[j].token[0]; probes++, j = (j + 1) & (a->cap - 1))
        if (CRYPTO_memcmp(a->tokens[j].token, tok, 64) == 0) {
            a->tokens[j].expires = 0;
            break;
        }
    pthread_mutex_unlock(&a->mu);
}

void auth_revoke_client(auth *a, const char *key)
{
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < a->cap; i++)
        if (a->tokens[i].token[0] && !strcmp(a->tokens[i].key, key)) a->tokens[i].expires = 0;
    okrec *o = ok_slot(a, key);
    if (!strcmp(o->key, key)) OPENSSL_cleanse(o, sizeof *o);
    pthread_mutex_unlock(&a->mu);
}

/* Whether the client behind a token is still as it was at issue. */
static bool client_unchanged(auth *a, const char *key, int64_t generation)
{
    cred_client c;
    err_t e = cred_client_load(a->admin, key, &c);
    if (e == ERR_STORAGE) return true; /* the store is down: keep serving live tokens */
    bool same = !e && c.enabled && c.generation == generation;
    cred_client_free(&c);
    return same;
}

const auth_client *auth_check_token(auth *a, const char *tok)
{
    if (strlen(tok) != 64) return NULL;
    grant *g = NULL;
    char key[128] = "";
    int64_t generation = 0;
    bool recheck = false;
    time_t now = time(NULL);
    pthread_mutex_lock(&a->mu);
    size_t j = hash_str(tok) & (a->cap - 1);
    for (size_t probes = 0; probes < a->cap && a->tokens[j].token[0]; probes++, j = (j + 1) & (a->cap - 1)) {
        token *t = &a->tokens[j];
        if (CRYPTO_memcmp(t->token, tok, 64) == 0) {
            if (t->expires > now && t->g) {
                g = t->g;
                atomic_fetch_add(&g->refs, 1);
                if (now - t->checked >= AUTH_RECHECK_SECONDS) {
                    recheck = true;
                    t->checked = now; /* one re-read per token per interval */
                    snprintf(key, sizeof key, "%s", t->key);
                    generation = g->generation;
                }
            }
            break;
        }
    }
    pthread_mutex_unlock(&a->mu);
    if (g && recheck && !client_unchanged(a, key, generation)) {
        log_info("auth: client '%s' was changed, disabled or deleted: its live tokens end", key);
        auth_revoke_client(a, key);
        auth_client_release(&g->c);
        return NULL;
    }
    return g ? &g->c : NULL;
}
