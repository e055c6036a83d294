/* Authentication: OAuth2 client credentials and opaque bearer tokens,
 * checked server-side against the admin store's clients. */
#ifndef EDHUB_AUTH_H
#define EDHUB_AUTH_H
#include "../base/err.h"
#include <stdint.h>
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

/* What a live token grants: the client's claim set and education
 * organization ids (narrowed by a token scope) and namespace prefixes, as
 * they were when the token was issued. Immutable; shared by reference. */
typedef struct auth_client {
    char key[128];            /* client key */
    int claim_set;            /* index in the claims metadata, -1 if unknown */
    const char *claim_set_name;
    int64_t *edorgs;
    int nedorgs;
    char **namespaces;
    int nnamespaces;
    char **profiles;          /* the API profiles assigned to the client */
    int nprofiles;
    char **instances;         /* the ODS instances it may use (names) */
    int ninstances;
    int64_t scope;            /* the scope asked for at the token endpoint, or 0 */
} auth_client;

/* Live tokens per client key, as ODS's BearerTokenPerClientLimit. */
#define AUTH_MAX_TOKENS_PER_CLIENT 15
/* How long a live token trusts its client's state before re-reading it
 * from the admin store: the most a change made by another process (the
 * CLI) takes to end the client's tokens. */
#define AUTH_RECHECK_SECONDS 1

struct admin_store;
struct claims;
/* max_tokens_per_client < 1: no cap. claims may be NULL (tests). */
auth *auth_new(struct admin_store *admin, const struct claims *claims, int token_ttl_seconds, int max_tokens_per_client);
void auth_free(auth *a);

/* Issues a token for key/secret asked from address addr, narrowed to one
 * education organization when scope > 0: ERR_NOT_FOUND for bad credentials
 * or a disabled client, ERR_INVALID when scope is not one of the client's,
 * ERR_LIMIT when the client holds its maximum of live tokens,
 * ERR_THROTTLED (*retry_after seconds) after too many failures for the key
 * or from the address. */
err_t auth_issue_token(auth *a, const char *key, const char *secret, const char *addr, int64_t scope, char token[65],
                       int *expires_in, int *retry_after);
/* Ends one token. */
void auth_revoke_token(auth *a, const char *token);
/* Ends every live token of a client at once (disable, reset, delete). */
void auth_revoke_client(auth *a, const char *key);
/* Resolves a bearer token to what it grants (a reference: release it), or
 * NULL when unknown, expired or revoked. A token whose client was
 * disabled, reset, changed or deleted since it was issued is revoked here,
 * at most AUTH_RECHECK_SECONDS after the change. */
const auth_client *auth_check_token(auth *a, const char *token);
void auth_client_release(const auth_client *c);

#endif
