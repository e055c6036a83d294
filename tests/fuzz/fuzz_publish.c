/* libFuzzer target: what edhub publish parses from outside — the bookmark
 * file (pub_bookmark_get), descriptorMappings items and documents as an
 * API source sends them (mapping, cleaning, key values, key changes). The
 * input is one JSON text (strict tokener, as the source reader uses). */
#include "fuzz_model.h"
#include "publish/publish.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static model *m;
static char bookmark[64];

static void remove_bookmark(void) { unlink(bookmark); }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    m = fuzz_model("fuzz_publish");
    snprintf(bookmark, sizeof bookmark, "/tmp/edhub-fuzz-publish-%d.json", (int)getpid());
    atexit(remove_bookmark);
    return 0;
}

static bool ed_fi_only(void *ctx, const char *uri)
{
    (void)ctx;
    return uri && strncmp(uri, "uri://ed-fi.org/", 16) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20)) return 0;
    FILE *f = fopen(bookmark, "wb");
    if (f) {
        fwrite(data, 1, size, f);
        fclose(f);
        pub_bookmark_get(bookmark, "src", "tgt");
        pub_bookmark_get(bookmark, (const char *)"", "");
    }
    json_tokener *tok = json_tokener_new();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *doc = json_tokener_parse_ex(tok, (const char *)data, (int)size);
    json_tokener_free(tok);
    if (!doc) return 0;
    buf q;
    buf_init(&q, 1 << 20);
    pub_key_query(doc, &q);
    buf_free(&q);
    pub_mappings *mp = pub_mappings_new();
    pub_mappings_add(mp, doc, false);
    pub_mappings_add(mp, doc, true);
    static const char *const names[] = {"Student", "StudentSchoolAssociation", "School", "GradeLevelDescriptor"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        const mresource *r = model_find_by_name(m, NULL, names[k]);
        if (!r) continue;
        json_object *copy = NULL;
        if (json_object_deep_copy(doc, &copy, NULL) != 0) continue;
        json_object *unmapped = json_object_new_array();
        pub_map_descriptors(mp, names[k], copy, ed_fi_only, NULL, unmapped);
        pub_clean_doc(copy, r);
        pub_set_key_values(r, copy, doc);
        json_object_put(unmapped);
        json_object_put(copy);
    }
    pub_mappings_free(mp);
    json_object_put(doc);
    return 0;
}
