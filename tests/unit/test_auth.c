/* Unit tests for src/auth/auth.c: PBKDF2 secret hashing and verification,
 * and bearer tokens issued against client credentials in a real store. */
#include "auth/auth.h"
#include "base/arena.h"
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "leak.h"
#include "testdb.h"

TestSuite(hash, .fini = unit_leak_check);

#define ITER 1000

Test(hash, format)
{
    char *h = auth_hash_secret("s3cret", ITER);
    cr_assert_not_null(h);
    cr_assert_eq(strncmp(h, "pbkdf2-sha256$1000$", 19), 0, "%s", h);
    /* salt: 16 bytes -> 24 base64 chars; key: 32 bytes -> 44 chars */
    const char *salt = h + 19;
    const char *dollar = strchr(salt, '$');
    cr_assert_not_null(dollar);
    cr_assert_eq(dollar - salt, 24, "%s", h);
    cr_assert_eq(strlen(dollar + 1), 44, "%s", h);
    free(h);
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
    char changed[256];
    snprintf(changed, sizeof changed, "pbkdf2-sha256$1001$%s", h + 19);
    cr_assert_not(auth_verify_secret("pw", changed));
    free(h);
}

Test(hash, malformed_stored_hashes_rejected)
{
    char *h = auth_hash_secret("pw", ITER);
    const char *salt = h + 19;
    const char *key = strchr(salt, '$') + 1;
    char bad[12][256];
    int n = 0;
    snprintf(bad[n++], 256, "%s", "");
    snprintf(bad[n++], 256, "%s", "pw");
    snprintf(bad[n++], 256, "%s", "pbkdf2-sha256$");
    snprintf(bad[n++], 256, "md5$1000$%s", salt);                             /* other scheme */
    snprintf(bad[n++], 256, "pbkdf2-sha256$0$%s", salt);                      /* zero iterations */
    snprintf(bad[n++], 256, "pbkdf2-sha256$-5$%s", salt);
    snprintf(bad[n++], 256, "pbkdf2-sha256$abc$%s", salt);
    snprintf(bad[n++], 256, "pbkdf2-sha256$1000$%.24s", salt);                /* no key */
    snprintf(bad[n++], 256, "pbkdf2-sha256$1000$!!!!$%s", key);               /* salt not base64 */
    snprintf(bad[n++], 256, "pbkdf2-sha256$1000$%.25s%.8s", salt, key);       /* key too short */
    snprintf(bad[n++], 256, "pbkdf2-sha256$1000$AAAA$%s", key);               /* salt too short */
    snprintf(bad[n++], 256, "pbkdf2-sha256$99999999$%s", salt);               /* absurd cost */
    for (int i = 0; i < n; i++) cr_assert_not(auth_verify_secret("pw", bad[i]), "accepted '%s'", bad[i]);
    free(h);
}

/* ---- tokens ---- */

static char dir[64], path[256];
static store *S;
static auth *AU;

static void setup(void)
{
    testdb_location(dir, sizeof dir, path, sizeof path);
    char err[256] = "";
    store_opts o = {.readers = 2};
    cr_assert_eq(store_open(path, &o, &S, err, sizeof err), ERR_OK, "%s", err);
    char *h = auth_hash_secret("secret-1", ITER);
    cr_assert_eq(store_client_put(S, "client-1", h, "Client One"), ERR_OK);
    free(h);
    AU = auth_new(S, 60, 0); /* no cap: the cap has its own tests */
}

static void teardown(void)
{
    auth_free(AU);
    store_close(S);
    const char *sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char p[160];
        snprintf(p, sizeof p, "%s%s", path, sfx[i]);
        unlink(p);
    }
    rmdir(dir);
    unit_leak_check();
}

TestSuite(token, .init = setup, .fini = teardown);

Test(token, issue_and_check)
{
    char tok[65];
    int exp = 0;
    int ra = 0;
    cr_assert_eq(auth_issue_token(AU, "client-1", "secret-1", "127.0.0.1", tok, &exp, &ra), ERR_OK);
    cr_assert_eq(exp, 60);
    cr_assert_eq(strlen(tok), 64);
    for (int i = 0; i < 64; i++) cr_assert(strchr("0123456789abcdef", tok[i]), "hex token: %s", tok);
    auth_client c;
    memset(&c, 0, sizeof c);
    cr_assert(auth_check_token(AU, tok, &c));
    cr_assert_str_eq(c.key, "client-1");
    char tok2[65];
    cr_assert_eq(auth_issue_token(AU, "client-1", "secret-1", "127.0.0.1", tok2, &exp, &ra), ERR_OK);
    cr_assert_str_neq(tok, tok2, "every token is new");
    cr_assert(auth_check_token(AU, tok, &c), "earlier tokens stay valid");
}

Test(token, bad_credentials)
{
    char tok[65];
    int exp = 0;
    int ra = 0;
    cr_assert_eq(auth_issue_token(AU, "client-1", "secret-2", "127.0.0.1", tok, &exp, &ra), ERR_NOT_FOUND);
    cr_assert_eq(auth_issue_token(AU, "client-2", "secret-1", "127.0.0.1", tok, &exp, &ra), ERR_NOT_FOUND);
    cr_assert_eq(auth_issue_token(AU, "", "", "127.0.0.1", tok, &exp, &ra), ERR_NOT_FOUND);
}

Test(token, unknown_tokens_rejected)
{
    auth_client c;
    cr_assert_not(auth_check_token(AU, "", &c));
    cr_assert_not(auth_check_token(AU, "abc", &c));
    char fake[65];
    memset(fake, 'a', 64);
    fake[64] = 0;
    cr_assert_not(auth_check_token(AU, fake, &c));
    char tok[65];
    int exp;
    int ra = 0;
    cr_assert_eq(auth_issue_token(AU, "client-1", "secret-1", "127.0.0.1", tok, &exp, &ra), ERR_OK);
    char longer[70];
    snprintf(longer, sizeof longer, "%sx", tok);
    cr_assert_not(auth_check_token(AU, longer, &c));
    tok[0] = tok[0] == '0' ? '1' : '0';
    cr_assert_not(auth_check_token(AU, tok, &c));
}

Test(token, many_tokens_survive_table_growth)
{
    enum { N = 1500 };
    static char toks[N][65];
    int exp, ra;
    for (int i = 0; i < N; i++) cr_assert_eq(auth_issue_token(AU, "client-1", "secret-1", "127.0.0.1", toks[i], &exp, &ra), ERR_OK);
    auth_client c;
    for (int i = 0; i < N; i++) cr_assert(auth_check_token(AU, toks[i], &c), "token %d lost", i);
}

Test(token, expiry)
{
    auth *shortlived = auth_new(S, 1, 0);
    char tok[65];
    int exp;
    int ra = 0;
    cr_assert_eq(auth_issue_token(shortlived, "client-1", "secret-1", "127.0.0.1", tok, &exp, &ra), ERR_OK);
    cr_assert_eq(exp, 1);
    auth_client c;
    cr_assert(auth_check_token(shortlived, tok, &c));
    sleep(2);
    cr_assert_not(auth_check_token(shortlived, tok, &c));
    auth_free(shortlived);
}

Test(token, default_ttl)
{
    auth *d = auth_new(S, 0, 0);
    char tok[65];
    int exp = 0;
    int ra = 0;
    cr_assert_eq(auth_issue_token(d, "client-1", "secret-1", "127.0.0.1", tok, &exp, &ra), ERR_OK);
    cr_assert_eq(exp, 1800);
    auth_free(d);
}

Test(token, authorize_grants_full_access)
{
    auth_client c = {"client-1"};
    cr_assert(auth_authorize(&c, ACT_CREATE, NULL));
    cr_assert(auth_authorize(&c, ACT_DELETE, NULL));
}

Test(token, live_tokens_per_client_are_capped)
{
    auth *capped = auth_new(S, 60, AUTH_MAX_TOKENS_PER_CLIENT);
    char tok[65];
    int exp, ra;
    for (int i = 0; i < AUTH_MAX_TOKENS_PER_CLIENT; i++)
        cr_assert_eq(auth_issue_token(capped, "client-1", "secret-1", "127.0.0.1", tok, &exp, &ra), ERR_OK, "token %d", i);
    cr_assert_eq(auth_issue_token(capped, "client-1", "secret-1", "127.0.0.1", tok, &exp, &ra), ERR_LIMIT,
                 "the 16th live token is refused (429 too-many-tokens)");
    auth_revoke_client(capped, "client-1");
    cr_assert_eq(auth_issue_token(capped, "client-1", "secret-1", "127.0.0.1", tok, &exp, &ra), ERR_OK,
                 "revoked tokens no longer count");
    auth_free(capped);
}

Test(token, revocation_ends_live_tokens_at_once)
{
    char t1[65], t2[65];
    int exp, ra;
    cr_assert_eq(auth_issue_token(AU, "client-1", "secret-1", "127.0.0.1", t1, &exp, &ra), ERR_OK);
    cr_assert_eq(auth_issue_token(AU, "client-1", "secret-1", "127.0.0.1", t2, &exp, &ra), ERR_OK);
    auth_client c;
    auth_revoke_client(AU, "client-1");
    cr_assert_not(auth_check_token(AU, t1, &c));
    cr_assert_not(auth_check_token(AU, t2, &c));
}

Test(token, repeated_failures_are_throttled_per_key)
{
    char tok[65];
    int exp, ra = 0;
    for (int i = 0; i < 20; i++)
        cr_assert_eq(auth_issue_token(AU, "client-1", "wrong", "10.0.0.1", tok, &exp, &ra), ERR_NOT_FOUND);
    cr_assert_eq(auth_issue_token(AU, "client-1", "secret-1", "10.0.0.2", tok, &exp, &ra), ERR_THROTTLED,
                 "even the right secret, from another address, waits");
    cr_assert_gt(ra, 0);
    cr_assert_leq(ra, 900);
}

Test(token, repeated_failures_are_throttled_per_address)
{
    char tok[65], key[32];
    int exp, ra = 0;
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "guess-%d", i);
        cr_assert_eq(auth_issue_token(AU, key, "x", "10.9.9.9", tok, &exp, &ra), ERR_NOT_FOUND);
    }
    cr_assert_eq(auth_issue_token(AU, "client-1", "secret-1", "10.9.9.9", tok, &exp, &ra), ERR_THROTTLED,
                 "an address that guessed 100 times waits");
    cr_assert_eq(auth_issue_token(AU, "client-1", "secret-1", "10.9.9.10", tok, &exp, &ra), ERR_OK,
                 "other addresses are not affected");
}

Test(token, a_reset_secret_is_not_served_from_the_verification_cache)
{
    char tok[65];
    int exp, ra;
    cr_assert_eq(auth_issue_token(AU, "client-1", "secret-1", "127.0.0.1", tok, &exp, &ra), ERR_OK);
    char *h = auth_hash_secret("secret-NEW", ITER);
    cr_assert_eq(store_client_put(S, "client-1", h, "Client One"), ERR_OK);
    free(h);
    cr_assert_eq(auth_issue_token(AU, "client-1", "secret-1", "127.0.0.1", tok, &exp, &ra), ERR_NOT_FOUND,
                 "the old secret fails at once after a reset");
    cr_assert_eq(auth_issue_token(AU, "client-1", "secret-NEW", "127.0.0.1", tok, &exp, &ra), ERR_OK);
}
