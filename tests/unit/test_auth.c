/* Unit tests for src/auth/auth.c: PBKDF2 secret hashing and verification,
 * and bearer tokens issued against client credentials in a real store. */
#include "auth/auth.h"
#include "security/credentials.h"
#include "store/admin.h"
#include "base/arena.h"
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "leak.h"
#include "testdb.h"

TestSuite(hash, .fini = unit_leak_check);

#define ITER 1000

/* Decodes a stored hash (ODS packed format) into blob; returns its length. */
static int unpack(const char *stored, unsigned char *blob)
{
    size_t n = strlen(stored);
    int len = EVP_DecodeBlock(blob, (const unsigned char *)stored, (int)n);
    return len - (stored[n - 1] == '=' ? (stored[n - 2] == '=' ? 2 : 1) : 0);
}

static char *pack(const unsigned char *blob, int len)
{
    char *out = malloc(4 * ((size_t)(len + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, blob, len);
    return out;
}

Test(hash, format_is_the_ods_packed_hash)
{
    char *h = auth_hash_secret("s3cret", ITER);
    cr_assert_not_null(h);
    unsigned char b[128];
    cr_assert_eq(unpack(h, b), 13 + 16 + 32, "%s", h);
    cr_assert_eq(b[0], 0, "format byte");
    cr_assert(b[1] == 0x48 && b[2] == 0x1e && b[3] == 0x66 && b[4] == 0x85, "algorithm code of PBKDF2-HMACSHA256");
    cr_assert_eq(b[5] | b[6] << 8 | b[7] << 16 | b[8] << 24, ITER, "iterations, little-endian");
    cr_assert_eq(b[9] | b[10] << 8 | b[11] << 16 | b[12] << 24, 16, "salt length");
    free(h);
}

/* Vectors computed from the documented layout (security.md §1.10) with an
 * independent PBKDF2 (Python hashlib): salt bytes 00..0f. */
Test(hash, verifies_ods_sha256_and_sha1_hashes)
{
    const char *sha256_600k = "AEgeZoXAJwkAEAAAAAABAgMEBQYHCAkKCwwNDg/eN3KxSZrMjY4Ky+W/Xl0K8KQiSVm6YKN5rGlYhF9hZA==";
    const char *sha1_10k = "AKKLubgQJwAAEAAAAAABAgMEBQYHCAkKCwwNDg+csZ24UepbAFWHSd7qY8W0PE9wjsbUwVyV4VMxRWMYsQ==";
    cr_assert(auth_verify_secret("E1iEFusaNf81xzCxwHfbolkC", sha256_600k));
    cr_assert_not(auth_verify_secret("E1iEFusaNf81xzCxwHfbolkD", sha256_600k));
    cr_assert(auth_verify_secret("E1iEFusaNf81xzCxwHfbolkC", sha1_10k));
    cr_assert_not(auth_verify_secret("e1iEFusaNf81xzCxwHfbolkC", sha1_10k));
}

Test(hash, verifies_edhub_0_1_hashes)
{
    const char *legacy = "pbkdf2-sha256$1000$ZGVmZ2hpamtsbW5vcHFycw==$hhDOenqBPzFAv4CYTAKIDPvVXTvtgJ/JGphmLdB2+Zo=";
    cr_assert(auth_verify_secret("legacy-pw", legacy));
    cr_assert_not(auth_verify_secret("legacy-pW", legacy));
}

Test(hash, verify_right_and_wrong)
{
    char *h = auth_hash_secret("correct horse", ITER);
    cr_assert(auth_verify_secret("correct horse", h));
    cr_assert_not(auth_verify_secret("correct hors", h));
    cr_assert_not(auth_verify_secret("correct horse ", h));
    cr_assert_not(auth_verify_secret("Correct horse", h));
    cr_assert_not(auth_verify_secret("", h));
    free(h);
}

Test(hash, salted)
{
    char *a = auth_hash_secret("same", ITER), *b = auth_hash_secret("same", ITER);
    cr_assert_str_neq(a, b, "random salt");
    cr_assert(auth_verify_secret("same", a));
    cr_assert(auth_verify_secret("same", b));
    free(a);
    free(b);
}

Test(hash, empty_secret)
{
    char *h = auth_hash_secret("", ITER);
    cr_assert(auth_verify_secret("", h));
    cr_assert_not(auth_verify_secret("x", h));
    free(h);
}

Test(hash, iteration_count_is_part_of_the_hash)
{
    char *h = auth_hash_secret("pw", ITER);
    unsigned char b[128];
    int len = unpack(h, b);
    b[5] ^= 1; /* 1000 -> 1001 */
    char *changed = pack(b, len);
    cr_assert_not(auth_verify_secret("pw", changed));
    free(changed);
    free(h);
}

/* Builds a packed hash from h with one byte range replaced. */
static char *tamper(const char *h, int at, const void *bytes, int n, int newlen)
{
    unsigned char b[128];
    int len = unpack(h, b);
    memcpy(b + at, bytes, (size_t)n);
    return pack(b, newlen > 0 ? newlen : len);
}

Test(hash, malformed_stored_hashes_rejected)
{
    char *h = auth_hash_secret("pw", ITER);
    cr_assert(auth_verify_secret("pw", h));
    unsigned char one = 1, bad_alg[4] = {1, 2, 3, 4}, zero_it[4] = {0}, neg_it[4] = {0xff, 0xff, 0xff, 0xff},
                  huge_it[4] = {0, 0, 0, 0x7f}, big_salt[4] = {0x40, 0, 0, 0}, small_salt[4] = {4, 0, 0, 0};
    char *bad[] = {
        tamper(h, 0, &one, 1, 0),          /* format byte */
        tamper(h, 1, bad_alg, 4, 0),       /* unknown algorithm */
        tamper(h, 5, zero_it, 4, 0),       /* zero iterations */
        tamper(h, 5, neg_it, 4, 0),        /* negative */
        tamper(h, 5, huge_it, 4, 0),       /* absurd cost */
        tamper(h, 9, big_salt, 4, 0),      /* salt length past the end */
        tamper(h, 9, small_salt, 4, 0),    /* salt length that does not add up */
        tamper(h, 0, &one, 0, 40),         /* truncated */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_not(auth_verify_secret("pw", bad[i]), "accepted variant %zu '%s'", i, bad[i]);
        free(bad[i]);
    }
    const char *strings[] = {"", "pw", "AAAA", "!!!!", "pbkdf2-sha256$", "pbkdf2-sha256$0$AAAA$AAAA",
                             "pbkdf2-sha256$99999999$ZGVmZ2hpamtsbW5vcHFycw==$hhDOenqBPzFAv4CYTAKIDPvVXTvtgJ/JGphmLdB2+Zo=",
                             "pbkdf2-sha256$1000$AAAA$hhDOenqBPzFAv4CYTAKIDPvVXTvtgJ/JGphmLdB2+Zo="};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        cr_assert_not(auth_verify_secret("pw", strings[i]), "accepted '%s'", strings[i]);
    free(h);
}

/* ---- tokens ---- */

static char dir[64], path[256];
static admin_store *S;
static auth *AU;

/* A client whose stored hash is given as is (formats of other versions). */
static void put_client(const char *key, const char *hash)
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"key\":\"%s\",\"secretHash\":\"%s\",\"claimSet\":\"SIS Vendor\",\"edorgs\":[255901],"
             "\"namespaces\":[],\"enabled\":true,\"generation\":1}",
             key, hash);
    cr_assert_eq(admin_put(S, "client", key, body, -1, NULL, NULL), ERR_OK);
}

static void stored_hash(const char *key, char *out, size_t n)
{
    cred_client c;
    cr_assert_eq(cred_client_load(S, key, &c), ERR_OK);
    snprintf(out, n, "%s", c.secret_hash);
    cred_client_free(&c);
}

static void setup(void)
{
    testdb_location(dir, sizeof dir, path, sizeof path);
    char err[256] = "";
    cr_assert_eq(admin_open(path, &S, err, sizeof err), ERR_OK, "%s", err);
    char *h = auth_hash_secret("secret-1", ITER);
    put_client("client-1", h);
    free(h);
    AU = auth_new(S, NULL, 60, 0); /* no cap: the cap has its own tests */
}

static void teardown(void)
{
    auth_free(AU);
    admin_close(S);
    testdb_remove(dir, path);
    unit_leak_check();
}

TestSuite(token, .init = setup, .fini = teardown);

Test(token, issue_and_check)
{
    char tok[65];
    int exp = 0;
    int ra = 0;
    cr_assert_eq(auth_issue_token(AU, "client-1", "secret-1", "127.0.0.1", 0, tok, &exp, &ra), ERR_OK);
    cr_assert_eq(exp, 60);
    cr_assert_eq(strlen(tok), 64);
    for (int i = 0; i < 64; i++) cr_assert(strchr("0123456789abcdef", tok[i]), "hex token: %s", tok);
    const auth_client *c = auth_check_token(AU, tok);
    cr_assert_not_null(c);
    cr_assert_str_eq(c->key, "client-1");
    cr_assert_eq(c->nedorgs, 1);
    cr_assert_eq(c->edorgs[0], 255901);
    auth_client_release(c);
    char tok2[65];
    cr_assert_eq(auth_issue_token(AU, "client-1", "secret-1", "127.0.0.1", 0, tok2, &exp, &ra), ERR_OK);
    cr_assert_str_neq(tok, tok2, "every token is new");
    c = auth_check_token(AU, tok);
    cr_assert_not_null(c, "earlier tokens stay valid");
    auth_client_release(c);
}

Test(token, an_unknown_key_costs_a_verification)
{
    /* No timing oracle: an unknown key takes about as long as a wrong secret
     * for a key whose hash has the full iteration count. */
    char *full = auth_hash_secret("secret-x", AUTH_PBKDF2_ITERATIONS);
    put_client("full-cost", full);
    free(full);
    char tok[65];
    int exp, ra;
    struct timespec t0, t1, t2;
    auth_issue_token(AU, "nobody", "x", "10.7.7.7", 0, tok, &exp, &ra); /* makes the dummy hash once */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(auth_issue_token(AU, "nobody-2", "x", "10.7.7.7", 0, tok, &exp, &ra), ERR_NOT_FOUND);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cr_assert_eq(auth_issue_token(AU, "full-cost", "wrong", "10.7.7.7", 0, tok, &exp, &ra), ERR_NOT_FOUND);
    clock_gettime(CLOCK_MONOTONIC, &t2);
    double unknown = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    double wrong = (double)(t2.tv_sec - t1.tv_sec) + (double)(t2.tv_nsec - t1.tv_nsec) / 1e9;
    cr_assert_gt(unknown, wrong * 0.5, "unknown %.3f s vs wrong secret %.3f s", unknown, wrong);
}

Test(token, bad_credentials)
{
    char tok[65];
    int exp = 0;
    int ra = 0;
    cr_assert_eq(auth_issue_token(AU, "client-1", "secret-2", "127.0.0.1", 0, tok, &exp, &ra), ERR_NOT_FOUND);
    cr_assert_eq(auth_issue_token(AU, "client-2", "secret-1", "127.0.0.1", 0, tok, &exp, &ra), ERR_NOT_FOUND);
    cr_assert_eq(auth_issue_token(AU, "", "", "127.0.0.1", 0, tok, &exp, &ra), ERR_NOT_FOUND);
}

Test(token, unknown_tokens_rejected)
{
    cr_assert_null(auth_check_token(AU, ""));
    cr_assert_null(auth_check_token(AU, "abc"));
    char fake[65];
    memset(fake, 'a', 64);
    fake[64] = 0;
    cr_assert_null(auth_check_token(AU, fake));
    char tok[65];
    int exp;
    int ra = 0;
    cr_assert_eq(auth_issue_token(AU, "client-1", "secret-1", "127.0.0.1", 0, tok, &exp, &ra), ERR_OK);
    char longer[70];
    snprintf(longer, sizeof longer, "%sx", tok);
    cr_assert_null(auth_check_token(AU, longer));
    tok[0] = tok[0] == '0' ? '1' : '0';
    cr_assert_null(auth_check_token(AU, tok));
}

Test(token, many_tokens_survive_table_growth)
{
    enum { N = 1500 };
    static char toks[N][65];
    int exp, ra;
    for (int i = 0; i < N; i++) cr_assert_eq(auth_issue_token(AU, "client-1", "secret-1", "127.0.0.1", 0, toks[i], &exp, &ra), ERR_OK);
    for (int i = 0; i < N; i++) {
        const auth_client *c = auth_check_token(AU, toks[i]);
        cr_assert_not_null(c, "token %d lost", i);
        auth_client_release(c);
    }
}

Test(token, expiry)
{
    auth *shortlived = auth_new(S, NULL, 1, 0);
    char tok[65];
    int exp;
    int ra = 0;
    cr_assert_eq(auth_issue_token(shortlived, "client-1", "secret-1", "127.0.0.1", 0, tok, &exp, &ra), ERR_OK);
    cr_assert_eq(exp, 1);
    const auth_client *c = auth_check_token(shortlived, tok);
    cr_assert_not_null(c);
    auth_client_release(c);
    sleep(2);
    cr_assert_null(auth_check_token(shortlived, tok));
    auth_free(shortlived);
}

Test(token, default_ttl)
{
    auth *d = auth_new(S, NULL, 0, 0);
    char tok[65];
    int exp = 0;
    int ra = 0;
    cr_assert_eq(auth_issue_token(d, "client-1", "secret-1", "127.0.0.1", 0, tok, &exp, &ra), ERR_OK);
    cr_assert_eq(exp, 1800);
    auth_free(d);
}

Test(token, scope_narrows_to_one_of_the_clients_edorgs)
{
    char tok[65];
    int exp, ra;
    cr_assert_eq(auth_issue_token(AU, "client-1", "secret-1", "127.0.0.1", 255902, tok, &exp, &ra), ERR_INVALID);
    cr_assert_eq(auth_issue_token(AU, "client-1", "secret-1", "127.0.0.1", 255901, tok, &exp, &ra), ERR_OK);
    const auth_client *c = auth_check_token(AU, tok);
    cr_assert_not_null(c);
    cr_assert_eq(c->scope, 255901);
    cr_assert_eq(c->nedorgs, 1);
    auth_client_release(c);
}

Test(token, a_changed_client_loses_its_live_tokens)
{
    const char *cases[] = {"disable", "reset", "delete", "update"};
    for (int i = 0; i < 4; i++) {
        char tok[65], msg[256];
        int exp, ra;
        cr_assert_eq(auth_issue_token(AU, "client-1", "secret-1", "127.0.0.1", 0, tok, &exp, &ra), ERR_OK);
        const auth_client *c = auth_check_token(AU, tok);
        cr_assert_not_null(c);
        auth_client_release(c);
        cred_actor who = {"unit", NULL};
        cred_spec s = {.nedorgs = -1, .nnamespaces = -1, .enabled = -1};
        int64_t one = 255902;
        if (i == 0) s.enabled = 0;
        if (i == 3) s.edorgs = &one, s.nedorgs = 1;
        err_t e = i == 1 ? cred_client_reset(S, "client-1", "secret-1", &who, NULL, msg, sizeof msg)
                  : i == 2 ? cred_client_delete(S, "client-1", &who, msg, sizeof msg)
                           : cred_client_update(S, NULL, "client-1", &s, &who, msg, sizeof msg);
        cr_assert_eq(e, ERR_OK, "%s: %s", cases[i], msg);
        sleep(AUTH_RECHECK_SECONDS + 1); /* another process changed it: noticed at the next re-check */
        cr_assert_null(auth_check_token(AU, tok), "%s ends live tokens", cases[i]);
        char *h = auth_hash_secret("secret-1", ITER);
        put_client("client-1", h);
        free(h);
    }
}

Test(token, live_tokens_per_client_are_capped)
{
    auth *capped = auth_new(S, NULL, 60, AUTH_MAX_TOKENS_PER_CLIENT);
    char tok[65];
    int exp, ra;
    for (int i = 0; i < AUTH_MAX_TOKENS_PER_CLIENT; i++)
        cr_assert_eq(auth_issue_token(capped, "client-1", "secret-1", "127.0.0.1", 0, tok, &exp, &ra), ERR_OK, "token %d", i);
    cr_assert_eq(auth_issue_token(capped, "client-1", "secret-1", "127.0.0.1", 0, tok, &exp, &ra), ERR_LIMIT,
                 "the 16th live token is refused (429 too-many-tokens)");
    auth_revoke_client(capped, "client-1");
    cr_assert_eq(auth_issue_token(capped, "client-1", "secret-1", "127.0.0.1", 0, tok, &exp, &ra), ERR_OK,
                 "revoked tokens no longer count");
    auth_free(capped);
}

Test(token, revocation_ends_live_tokens_at_once)
{
    char t1[65], t2[65];
    int exp, ra;
    cr_assert_eq(auth_issue_token(AU, "client-1", "secret-1", "127.0.0.1", 0, t1, &exp, &ra), ERR_OK);
    cr_assert_eq(auth_issue_token(AU, "client-1", "secret-1", "127.0.0.1", 0, t2, &exp, &ra), ERR_OK);
    auth_revoke_client(AU, "client-1");
    cr_assert_null(auth_check_token(AU, t1));
    cr_assert_null(auth_check_token(AU, t2));
}

Test(token, repeated_failures_are_throttled_per_key)
{
    char tok[65];
    int exp, ra = 0;
    for (int i = 0; i < 20; i++)
        cr_assert_eq(auth_issue_token(AU, "client-1", "wrong", "10.0.0.1", 0, tok, &exp, &ra), ERR_NOT_FOUND);
    cr_assert_eq(auth_issue_token(AU, "client-1", "secret-1", "10.0.0.2", 0, tok, &exp, &ra), ERR_THROTTLED,
                 "even the right secret, from another address, waits");
    cr_assert_gt(ra, 0);
    cr_assert_leq(ra, 900);
}

Test(token, repeated_failures_are_throttled_per_address)
{
    char tok[65], key[32];
    int exp, ra = 0;
    /* Wrong secrets for 100 existing keys (cheap hashes: an unknown key
     * would cost a full PBKDF2 each, by design). */
    char *h = auth_hash_secret("right", ITER);
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "guess-%d", i);
        put_client(key, h);
        cr_assert_eq(auth_issue_token(AU, key, "x", "10.9.9.9", 0, tok, &exp, &ra), ERR_NOT_FOUND);
    }
    free(h);
    cr_assert_eq(auth_issue_token(AU, "client-1", "secret-1", "10.9.9.9", 0, tok, &exp, &ra), ERR_THROTTLED,
                 "an address that guessed 100 times waits");
    cr_assert_eq(auth_issue_token(AU, "client-1", "secret-1", "10.9.9.10", 0, tok, &exp, &ra), ERR_OK,
                 "other addresses are not affected");
}

Test(token, a_reset_secret_is_not_served_from_the_verification_cache)
{
    char tok[65];
    int exp, ra;
    cr_assert_eq(auth_issue_token(AU, "client-1", "secret-1", "127.0.0.1", 0, tok, &exp, &ra), ERR_OK);
    char *h = auth_hash_secret("secret-NEW", ITER);
    put_client("client-1", h);
    free(h);
    cr_assert_eq(auth_issue_token(AU, "client-1", "secret-1", "127.0.0.1", 0, tok, &exp, &ra), ERR_NOT_FOUND,
                 "the old secret fails at once after a reset");
    cr_assert_eq(auth_issue_token(AU, "client-1", "secret-NEW", "127.0.0.1", 0, tok, &exp, &ra), ERR_OK);
}

Test(token, weaker_hashes_are_upgraded_at_login)
{
    /* edhub 0.1's format, then an ODS SHA1 hash: both verify, and the
     * first successful login rewrites them as PBKDF2-HMAC-SHA256 x600k. */
    const char *legacy = "pbkdf2-sha256$1000$ZGVmZ2hpamtsbW5vcHFycw==$hhDOenqBPzFAv4CYTAKIDPvVXTvtgJ/JGphmLdB2+Zo=";
    const char *sha1 = "AKKLubgQJwAAEAAAAAABAgMEBQYHCAkKCwwNDg+csZ24UepbAFWHSd7qY8W0PE9wjsbUwVyV4VMxRWMYsQ==";
    struct { const char *key, *secret, *hash; } cases[] = {{"old-1", "legacy-pw", legacy}, {"old-2", "E1iEFusaNf81xzCxwHfbolkC", sha1}};
    for (int i = 0; i < 2; i++) {
        put_client(cases[i].key, cases[i].hash);
        char tok[65], now[256];
        int exp, ra;
        cr_assert_eq(auth_issue_token(AU, cases[i].key, cases[i].secret, "127.0.0.1", 0, tok, &exp, &ra), ERR_OK);
        stored_hash(cases[i].key, now, sizeof now);
        cr_assert_str_neq(now, cases[i].hash, "the hash was rewritten");
        unsigned char b[128];
        cr_assert_eq(unpack(now, b), 13 + 16 + 32);
        cr_assert(b[1] == 0x48 && b[2] == 0x1e, "SHA-256");
        cr_assert_eq(b[5] | b[6] << 8 | b[7] << 16 | b[8] << 24, AUTH_PBKDF2_ITERATIONS);
        cr_assert(auth_verify_secret(cases[i].secret, now));
        cr_assert_eq(auth_issue_token(AU, cases[i].key, cases[i].secret, "127.0.0.1", 0, tok, &exp, &ra), ERR_OK);
    }
}
