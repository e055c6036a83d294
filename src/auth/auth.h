/* Authentication (OAuth2 client credentials, opaque bearer tokens) and the
 * authorization seam. In this version one class of client exists: full
 * access. Claim sets and record-level strategies plug into auth_authorize. */
#ifndef EDHUB_AUTH_H
#define EDHUB_AUTH_H
#include "../base/err.h"
#include "../model/model.h"
#include "../store/store.h"
#include <stdbool.h>
#include <stddef.h>

#define AUTH_PBKDF2_ITERATIONS 600000

/* Slow salted hash of a secret (PBKDF2-HMAC-SHA256, 16-byte salt) in Ed-Fi
 * ODS's packed base64 format. */
char *auth_hash_secret(const char *secret, int iterations);
/* Constant-time verification against a stored hash: the ODS packed format
 * (PBKDF2-HMAC-SHA256, or the SHA1 hashes of older ODS versions), or
 * edhub 0.1's "pbkdf2-sha256$iter$salt$key". */
bool auth_verify_secret(const char *secret, const char *stored);

typedef struct auth auth;
typedef struct auth_client {
    char key[128];       /* client key */
} auth_client;

/* Live tokens per client key, as ODS's BearerTokenPerClientLimit. */
#define AUTH_MAX_TOKENS_PER_CLIENT 15

/* max_tokens_per_client < 1: no cap. */
auth *auth_new(store *s, int token_ttl_seconds, int max_tokens_per_client);
void auth_free(auth *a);

/* Issues a token for key/secret asked from address addr: ERR_NOT_FOUND for
 * bad credentials, ERR_LIMIT when the client holds its maximum of live
 * tokens, ERR_THROTTLED (*retry_after seconds) after too many failures for
 * the key or from the address. */
err_t auth_issue_token(auth *a, const char *key, const char *secret, const char *addr, char token[65], int *expires_in,
                       int *retry_after);
/* Ends every live token of a client at once (disable, reset, delete). */
void auth_revoke_client(auth *a, const char *key);
/* Resolves a bearer token to its client; false when unknown or expired. */
bool auth_check_token(auth *a, const char *token, auth_client *out);

typedef enum { ACT_CREATE, ACT_READ, ACT_UPDATE, ACT_DELETE } auth_action;
/* The authorization seam: may this client do this action on this
 * resource? Claim sets and strategies fill this in (issue: security). */
bool auth_authorize(const auth_client *c, auth_action act, const mresource *r);

#endif
