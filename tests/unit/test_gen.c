/* Unit tests for src/gen: the PRNG streams, day arithmetic, the JSON writer,
 * the descriptor vocabulary check, determinism of a whole run, and the XML
 * writer against the loader's own mapper (every generated document, written
 * as XML and mapped back by src/load/xmlmap.c, is the same document). */
#include "base/jsonx.h"
#include "gen/gen.h"
#include "gen/jw.h"
#include "gen/rng.h"
#include "gen/vocab.h"
#include "gen/xmlwrite.h"
#include "load/xmlmap.h"
#include "model/model.h"
#include <criterion/criterion.h>
#include <dirent.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "leak.h"

#define BOOTSTRAP "samples/bootstrap/bootstrap.jsonl"

static model *M;
static char dirs[2][64];

static void setup(void)
{
    char err[256];
    M = model_load("model/ds-5.2/ApiSchema.json", err, sizeof err);
    cr_assert_not_null(M, "%s", err);
    for (int i = 0; i < 2; i++) {
        snprintf(dirs[i], sizeof dirs[i], "/tmp/edhub-gen-XXXXXX");
        cr_assert_not_null(mkdtemp(dirs[i]));
    }
}

static void rm_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d) closedir(d);
    rmdir(dir);
}

static void teardown(void)
{
    for (int i = 0; i < 2; i++) rm_dir(dirs[i]);
    model_free(M);
    xmlCleanupParser();
    unit_leak_check();
}

TestSuite(gen, .init = setup, .fini = teardown);

static err_t run(const char *dir, long students, uint64_t seed, gen_format f, gen_result *res)
{
    char err[512] = "";
    gen_opts o = {.students = students, .seed = seed, .days = 10, .format = f, .out_dir = dir, .bootstrap = BOOTSTRAP};
    err_t e = gen_run(M, &o, res, err, sizeof err);
    cr_assert(e == ERR_OK || e == ERR_CONFIG, "%s", err);
    return e;
}

static char *slurp(const char *dir, const char *name, size_t *len)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "rb");
    cr_assert_not_null(f, "%s", p);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return s;
}

Test(gen, rng_streams_are_reproducible_and_independent)
{
    rng a, b, c;
    rng_seed(&a, 42, 1, 7);
    rng_seed(&b, 42, 1, 7);
    rng_seed(&c, 42, 1, 8);
    int same = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = rng_next(&a), y = rng_next(&b), z = rng_next(&c);
        cr_assert_eq(x, y);
        same += x == z;
    }
    cr_assert_eq(same, 0);
    rng_seed(&a, 1, 2, 3);
    for (int i = 0; i < 10000; i++) {
        int v = rng_range(&a, 3, 5);
        cr_assert(v >= 3 && v <= 5);
        double u = rng_unit(&a);
        cr_assert(u >= 0 && u < 1);
    }
}

Test(gen, day_arithmetic)
{
    cr_assert_eq(day_from_civil(1970, 1, 1), 0);
    int d = day_from_civil(2025, 8, 18);
    cr_assert_eq(day_of_week(d), 0, "2025-08-18 is a Monday");
    char s[11];
    day_format(day_from_civil(2024, 2, 29), s);
    cr_assert_str_eq(s, "2024-02-29");
    for (int x = -800000; x < 800000; x += 997) {
        int y, m, dd;
        civil_from_day(x, &y, &m, &dd);
        cr_assert_eq(day_from_civil(y, m, dd), x);
    }
    cr_assert_eq(age_on(day_from_civil(2022, 8, 18), day_from_civil(2025, 8, 18)), 3);
    cr_assert_eq(age_on(day_from_civil(2022, 8, 19), day_from_civil(2025, 8, 18)), 2);
}

Test(gen, json_writer_nests_escapes_and_formats)
{
    buf b;
    buf_init(&b, 0);
    jw w;
    jw_begin(&w, &b);
    jw_int(&w, "a", -12);
    jw_str(&w, "b", "x\"y\\z");
    jw_arr(&w, "c");
    jw_item_str(&w, "d", "v");
    jw_obj(&w, NULL);
    jw_bool(&w, "e", true);
    jw_close_obj(&w);
    jw_close_arr(&w);
    jw_dec(&w, "f", 250, 2);
    jw_dec(&w, "g", 5, 3);
    jw_date(&w, "h", day_from_civil(2025, 8, 18));
    jw_close_obj(&w);
    cr_assert_str_eq(b.data, "{\"a\":-12,\"b\":\"x\\\"y\\\\z\",\"c\":[{\"d\":\"v\"},{\"e\":true}],\"f\":2.50,\"g\":0.005,"
                             "\"h\":\"2025-08-18\"}");
    buf_free(&b);
}

Test(gen, descriptors_must_exist_in_the_bootstrap_set)
{
    char err[512] = "";
    vocab *v = vocab_load(BOOTSTRAP, err, sizeof err);
    cr_assert_not_null(v, "%s", err);
    cr_assert_str_eq(vocab_uri(v, V_GRADE, 2), "uri://ed-fi.org/GradeLevelDescriptor#Kindergarten");
    vocab_free(v);
    char path[64] = "/tmp/edhub-gen-boot-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    const char *one = "{\"resource\":\"/ed-fi/sexDescriptors\",\"document\":{\"namespace\":\"uri://ed-fi.org/SexDescriptor\","
                      "\"codeValue\":\"Female\",\"shortDescription\":\"Female\"}}\n";
    cr_assert_eq(write(fd, one, strlen(one)), (ssize_t)strlen(one));
    close(fd);
    v = vocab_load(path, err, sizeof err);
    unlink(path);
    cr_assert_null(v);
    cr_assert(strstr(err, "uri://ed-fi.org/SexDescriptor#Male is not in the bootstrap set"), "%s", err);
}

Test(gen, bad_options_are_refused)
{
    gen_result res;
    cr_assert_eq(run(dirs[0], 0, 1, GEN_JSONL, &res), ERR_CONFIG);
}

Test(gen, same_seed_same_bytes_other_seed_other_data)
{
    gen_result r1, r2;
    cr_assert_eq(run(dirs[0], 700, 9, GEN_JSONL, &r1), ERR_OK);
    cr_assert_eq(run(dirs[1], 700, 9, GEN_JSONL, &r2), ERR_OK);
    cr_assert_eq(r1.records, r2.records);
    for (int i = 0; i < r1.nstreams; i++) {
        size_t n1, n2;
        char *a = slurp(dirs[0], r1.stream[i].file, &n1), *b = slurp(dirs[1], r2.stream[i].file, &n2);
        cr_assert(n1 == n2 && !memcmp(a, b, n1), "%s differs between two runs", r1.stream[i].file);
        free(a);
        free(b);
    }
    cr_assert_eq(run(dirs[1], 700, 10, GEN_JSONL, &r2), ERR_OK);
    size_t n1, n2;
    char *a = slurp(dirs[0], "03-students.jsonl", &n1), *b = slurp(dirs[1], "03-students.jsonl", &n2);
    cr_assert(n1 != n2 || memcmp(a, b, n1), "another seed gives other students");
    free(a);
    free(b);
}

/* Every generated document → XML (xmlwrite) → JSON (the loader's xmlmap)
 * gives the document back. */
Test(gen, xml_written_by_the_model_maps_back_to_the_same_documents)
{
    gen_result res;
    cr_assert_eq(run(dirs[0], 400, 3, GEN_JSONL, &res), ERR_OK);
    int resources = 0;
    for (int i = 0; i < res.nstreams; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dirs[0], res.stream[i].file);
        FILE *f = fopen(p, "r");
        cr_assert_not_null(f);
        char *line = NULL;
        size_t cap = 0;
        long n = 0;
        buf x;
        buf_init(&x, 0);
        while (getline(&line, &cap, f) > 0 && n < 300) {
            json_object *rec = json_tokener_parse(line);
            const mresource *r = model_find(M, "ed-fi", jsonx_str(rec, "resource") + 7);
            cr_assert_not_null(r);
            json_object *doc = jsonx_get(rec, "document");
            buf_reset(&x);
            xmlw_record(r, doc, &x);
            xmlDoc *d = xmlReadMemory(x.data, (int)x.len, "t.xml", NULL, XML_PARSE_NONET);
            cr_assert_not_null(d, "not XML: %s", x.data);
            char err[512] = "";
            json_object *back = xmlmap_record(M, r, xmlDocGetRootElement(d), NULL, err, sizeof err);
            cr_assert_not_null(back, "%s: %s\n%s", r->name, err, x.data);
            cr_assert(json_object_equal(doc, back), "%s:\n%s\n%s\n%s", r->name, jsonx_text(doc), x.data,
                      jsonx_text(back));
            json_object_put(back);
            xmlFreeDoc(d);
            json_object_put(rec);
            n++;
        }
        resources += n > 0;
        buf_free(&x);
        free(line);
        fclose(f);
    }
    cr_assert_eq(resources, res.nstreams, "every resource has documents to check");
}
