/* libFuzzer target: the URL path router, the query-parameter validator
 * (paging, cursor tokens, typed filters) and the token endpoint's Basic and
 * form parsers. Input: "path\nname=value&..." */
#include "api/route.h"
#include "base/arena.h"
#include "fuzz_model.h"
#include "model/model.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static model *m;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    m = fuzz_model("fuzz_route");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = 0;
    char *nl = strchr(s, '\n');
    char *query = nl ? nl + 1 : "";
    if (nl) *nl = 0;
    route rt;
    route_parse(s, &rt);
    const mresource *r = NULL;
    if (rt.kind == RT_COLLECTION || rt.kind == RT_PARTITIONS || rt.kind == RT_ITEM || rt.kind == RT_DELETES ||
        rt.kind == RT_KEY_CHANGES)
        r = model_find(m, rt.project, rt.endpoint);
    if (!r) r = model_find(m, "ed-fi", "studentSchoolAssociations");
    qparam ps[40];
    int n = 0;
    for (char *save = NULL, *kv = strtok_r(query, "&", &save); kv && n < 40; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        if (eq) *eq = 0;
        ps[n].name = kv;
        ps[n].value = eq ? eq + 1 : "";
        n++;
    }
    arena a;
    arena_init(&a, 4096);
    list_request lr;
    outcome o = {0};
    list_kind lk = rt.kind == RT_PARTITIONS                               ? LIST_PARTITIONS
                   : rt.kind == RT_DELETES || rt.kind == RT_KEY_CHANGES ? LIST_CHANGES
                                                                        : LIST_DOCS;
    if (route_list_request(r, ps, n, lk, &a, &lr, &o)) {
        if (lr.q.limit < 0 || lr.q.limit > PAGE_MAX || lr.q.offset < 0) abort();
    } else if (o.status != 400) {
        abort();
    }
    int64_t after, upto;
    if (route_page_token_parse(query, &after, &upto)) {
        char t[64];
        route_page_token(after, upto, t);
        if (strcmp(t, query) != 0) abort();
    }
    /* The token endpoint's parsers: Basic credentials and form values. */
    char *key, *secret;
    if (route_basic_credentials(query, &a, &key, &secret) && (strchr(key, ':') || !secret)) abort();
    char *form = strdup(query);
    if (route_form_decode(form) && strlen(form) > strlen(query)) abort();
    free(form);
    outcome_free(&o);
    arena_free(&a);
    free(s);
    return 0;
}
