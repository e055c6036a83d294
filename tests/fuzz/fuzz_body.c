/* libFuzzer target: the JSON body pipeline of a POST/PUT (strict parse,
 * schema validation and normalization, equality constraints, identity and
 * reference extraction). The first input byte picks the resource. */
#include "base/arena.h"
#include "base/jsonx.h"
#include "engine/engine.h"
#include "model/document.h"
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
    m = fuzz_model("fuzz_body");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    /* Favour a few rich resources, but reach every one. */
    static const char *rich[] = {"studentSchoolAssociations", "schools", "sessions", "bellSchedules",
                                 "studentSectionAssociations", "gradeLevelDescriptors", "students"};
    const mresource *r = data[0] < 128 ? model_find(m, "ed-fi", rich[data[0] % 7]) : &m->res[data[0] % m->nres];
    arena a;
    arena_init(&a, 4096);
    outcome o = {0};
    wreq w = {.m = m, .r = r, .a = &a, .op = (data[0] & 1) ? OP_UPSERT : OP_PUT,
              .id = "3af6ad85-1212-5833-be6f-f8df6f4d6402", .out = &o};
    if (engine_prepare(&w, (const char *)data + 1, size - 1)) {
        /* A prepared document must serialize and carry an identity. */
        const char *t = jsonx_text(w.doc);
        if (!t || t[0] != '{') abort();
    } else if (o.status < 400) {
        abort(); /* a rejection must carry a problem */
    }
    engine_release(&w);
    outcome_free(&o);
    arena_free(&a);
    return 0;
}
