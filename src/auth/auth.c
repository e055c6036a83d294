#include "auth.h"
#include "../base/arena.h"
#include "../base/log.h"
#include "../base/uuid.h"
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_TOKENS 100000

static void b64(const unsigned char *in, int n, char *out, size_t outlen)
{
    if ((size_t)(4 * ((n + 2) / 3) + 1) > outlen) {
        out[0] = 0;
        return;
    }
    EVP_EncodeBlock((unsigned char *)out, in, n);
}

char *auth_hash_secret(const char *secret, int iterations)
{
    unsigned char salt[16], dk[32];
    random_bytes(salt, sizeof salt);
    if (!PKCS5_PBKDF2_HMAC(secret, (int)strlen(secret), salt, sizeof salt, iterations, EVP_sha256(), sizeof dk, dk))
        return NULL;
    char s64[32], d64[64];
    b64(salt, sizeof salt, s64, sizeof s64);
    b64(dk, sizeof dk, d64, sizeof d64);
    char *out = xmalloc(160);
    snprintf(out, 160, "pbkdf2-sha256$%d$%s$%s", iterations, s64, d64);
    return out;
}

bool auth_verify_secret(const char *secret, const char *stored)
{
    int iter = 0;
    char s64[64] = {0}, d64[128] = {0};
    if (sscanf(stored, "pbkdf2-sha256$%d$%63[^$]$%127s", &iter, s64, d64) != 3 || iter < 1 || iter > 10000000)
        return false;
    unsigned char salt[64], want[96], got[32];
    int sl = EVP_DecodeBlock(salt, (const unsigned char *)s64, (int)strlen(s64));
    int wl = EVP_DecodeBlock(want, (const unsigned char *)d64, (int)strlen(d64));
    if (sl < 16 || wl < 32) return false;
    /* Base64 decoding pads; the salt and key lengths are fixed. */
    if (!PKCS5_PBKDF2_HMAC(secret, (int)strlen(secret), salt, 16, iter, EVP_sha256(), sizeof got, got)) return false;
    return CRYPTO_memcmp(got, want, sizeof got) == 0;
}

typedef struct token {
    char token[65];
    char key[128];
    time_t expires;
} token;

struct auth {
    store *s;
    int ttl;
    pthread_mutex_t mu;
    token *tokens;        /* open-addressing table keyed by token text */
    size_t cap, count;
};

auth *auth_new(store *s, int ttl)
{
    auth *a = xcalloc(1, sizeof *a);
    a->s = s;
    a->ttl = ttl > 0 ? ttl : 1800;
    a->cap = 1024;
    a->tokens = xcalloc(a->cap, sizeof(token));
    pthread_mutex_init(&a->mu, NULL);
    return a;
}

void auth_free(auth *a)
{
    if (!a) return;
    pthread_mutex_destroy(&a->mu);
    free(a->tokens);
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
        if (!old[i].token[0] || old[i].expires <= now) continue;
        size_t j = hash_str(old[i].token) & (a->cap - 1);
        while (a->tokens[j].token[0]) j = (j + 1) & (a->cap - 1);
        a->tokens[j] = old[i];
        a->count++;
    }
    free(old);
}

err_t auth_issue_token(auth *a, const char *key, const char *secret, char out[65], int *expires_in)
{
    char stored[256];
    err_t e = store_client_secret(a->s, key, stored, sizeof stored);
    if (e) return e == ERR_NOT_FOUND ? ERR_NOT_FOUND : e;
    if (!auth_verify_secret(secret, stored)) return ERR_NOT_FOUND;
    unsigned char raw[32];
    random_bytes(raw, sizeof raw);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[64] = 0;
    pthread_mutex_lock(&a->mu);
    if ((a->count + 1) * 2 > a->cap) sweep(a, (a->count + 1) * 4 > a->cap ? a->cap * 2 : a->cap);
    if (a->count >= MAX_TOKENS) {
        pthread_mutex_unlock(&a->mu);
        return ERR_UNAVAILABLE;
    }
    size_t j = hash_str(out) & (a->cap - 1);
    while (a->tokens[j].token[0]) j = (j + 1) & (a->cap - 1);
    memcpy(a->tokens[j].token, out, 65);
    snprintf(a->tokens[j].key, sizeof a->tokens[j].key, "%s", key);
    a->tokens[j].expires = time(NULL) + a->ttl;
    a->count++;
    pthread_mutex_unlock(&a->mu);
    *expires_in = a->ttl;
    return ERR_OK;
}

bool auth_check_token(auth *a, const char *tok, auth_client *out)
{
    if (strlen(tok) != 64) return false;
    bool ok = false;
    pthread_mutex_lock(&a->mu);
    size_t j = hash_str(tok) & (a->cap - 1);
    for (size_t probes = 0; probes < a->cap && a->tokens[j].token[0]; probes++, j = (j + 1) & (a->cap - 1)) {
        if (CRYPTO_memcmp(a->tokens[j].token, tok, 64) == 0) {
            if (a->tokens[j].expires > time(NULL)) {
                ok = true;
                snprintf(out->key, sizeof out->key, "%s", a->tokens[j].key);
            }
            break;
        }
    }
    pthread_mutex_unlock(&a->mu);
    return ok;
}

bool auth_authorize(const auth_client *c, auth_action act, const mresource *r)
{
    /* Every client of this version has full access. */
    (void)c, (void)act, (void)r;
    return true;
}
