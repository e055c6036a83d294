/* libFuzzer target: the configuration parsers — edhub.conf lines
 * (conf_find) and the claim-set/resource-claim metadata (claims_parse),
 * with a decision query on whatever loads. */
#include "base/conf.h"
#include "security/claims.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = 0;
    char out[256], err[256];
    conf_find(s, "database", out, sizeof out);
    conf_find(s, "read_database", out, 8);
    claims *c = claims_parse(s, size, NULL, err, sizeof err);
    if (c) {
        uint32_t st;
        for (int set = 0; set < claims_set_count(c); set++)
            for (int a = 0; a < SEC_ACTIONS; a++) claims_decide(c, set, claims_resource_claim(c, "ed-fi", "student"), (sec_action)a, &st);
        claims_free(c);
    }
    free(s);
    return 0;
}
