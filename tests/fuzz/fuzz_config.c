/* libFuzzer target: the configuration parsers — edhub.conf lines
 * (conf_find), the route template (parsed, then matched against the
 * input as a path), instance contexts, and the claim-set/resource-claim
 * metadata (claims_parse), with a decision query on whatever loads. */
#include "base/conf.h"
#include "deploy/instances.h"
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
    route_template t;
    if (route_template_parse(s, &t, err, sizeof err)) {
        char vals[INST_MAX_KEYS][INST_VALUE_MAX + 1], text[512];
        const char *rest;
        route_template_match(&t, s, vals, &rest);
        route_template_text(&t, text, sizeof text);
        instance_def d = {0};
        instance_context_add(&d, s, err, sizeof err);
        int idx;
        const char *names[] = {"default", s};
        instance_select(&d, 1, names, 2, &t, vals, &idx);
    }
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
