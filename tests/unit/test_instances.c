/* Unit tests for src/deploy/instances.c: the context route template and
 * the choice of an instance (ODS/API 7.3's selector rules), and the
 * registry on a real admin store (SQLite file). */
#include "deploy/instances.h"
#include "deploy/snapshots.h"
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "leak.h"

TestSuite(route_template, .fini = unit_leak_check);
TestSuite(instance_select, .fini = unit_leak_check);
TestSuite(registry, .fini = unit_leak_check);

static char V[INST_MAX_KEYS][INST_VALUE_MAX + 1];

Test(route_template, parses_keys_and_constraints)
{
    route_template t;
    char err[256];
    cr_assert(route_template_parse("{districtId}/{schoolYear:range(2000,2099)}", &t, err, sizeof err), "%s", err);
    cr_assert_eq(t.nkeys, 2);
    cr_assert_str_eq(t.key[0], "districtId");
    cr_assert_eq(t.kind[0], TPL_ANY);
    cr_assert_eq(t.kind[1], TPL_RANGE);
    cr_assert_eq(t.lo[1], 2000);
    cr_assert_eq(t.hi[1], 2099);
    char text[128];
    route_template_text(&t, text, sizeof text);
    cr_assert_str_eq(text, "{districtId}/{schoolYear}");
    cr_assert(route_template_parse("", &t, err, sizeof err));
    cr_assert_eq(t.nkeys, 0);
    cr_assert(route_template_parse("/{id:int}/", &t, err, sizeof err));
    cr_assert_eq(t.kind[0], TPL_INT);
}

Test(route_template, refuses_what_it_cannot_route)
{
    route_template t;
    char err[256];
    const char *bad[] = {"schoolYear", "{}", "{1x}", "{a}/{a}", "{a:regex(.*)}", "{a:range(5,1)}", "{a:range(1)}",
                         "{a}/{b}/{c}/{d}/{e}", "{a", "{a-b}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        cr_assert_not(route_template_parse(bad[i], &t, err, sizeof err), "%s", bad[i]);
        cr_assert(err[0], "a reason for %s", bad[i]);
    }
}

Test(route_template, matches_segments)
{
    route_template t;
    char err[256];
    const char *rest;
    cr_assert(route_template_parse("{districtId}/{schoolYear:range(2000,2099)}", &t, err, sizeof err));
    cr_assert(route_template_match(&t, "/255901/2026/data/v3/ed-fi/students", V, &rest));
    cr_assert_str_eq(V[0], "255901");
    cr_assert_str_eq(V[1], "2026");
    cr_assert_str_eq(rest, "/data/v3/ed-fi/students");
    cr_assert(route_template_match(&t, "/state/2026", V, &rest));
    cr_assert_str_eq(rest, "");
    cr_assert_not(route_template_match(&t, "/255901/1999/data", V, &rest));
    cr_assert_not(route_template_match(&t, "/255901/20x6/data", V, &rest));
    cr_assert_not(route_template_match(&t, "/255901", V, &rest));
    cr_assert_not(route_template_match(&t, "//2026/data", V, &rest));
    char longseg[200];
    memset(longseg, 'a', sizeof longseg);
    longseg[0] = '/';
    longseg[sizeof longseg - 1] = 0;
    cr_assert_not(route_template_match(&t, longseg, V, &rest));
}

static instance_def inst(const char *name, const char *k1, const char *v1, const char *k2, const char *v2)
{
    instance_def d = {0};
    char msg[256], kv[160];
    snprintf(d.name, sizeof d.name, "%s", name);
    if (k1) {
        snprintf(kv, sizeof kv, "%s=%s", k1, v1);
        cr_assert(instance_context_add(&d, kv, msg, sizeof msg), "%s", msg);
    }
    if (k2) {
        snprintf(kv, sizeof kv, "%s=%s", k2, v2);
        cr_assert(instance_context_add(&d, kv, msg, sizeof msg), "%s", msg);
    }
    return d;
}

Test(instance_select, ods_rules)
{
    instance_def all[3] = {inst("default", NULL, NULL, NULL, NULL), inst("d1", "districtId", "255901", "schoolYear", "2026"),
                           inst("D2", "districtId", "255902", "schoolYear", "2026")};
    route_template none = {0}, t;
    char err[256];
    int idx = -1;
    /* no instance bound */
    cr_assert_eq(instance_select(all, 3, NULL, 0, &none, V, &idx), SEL_NO_INSTANCE);
    const char *unknown[] = {"gone"};
    cr_assert_eq(instance_select(all, 3, unknown, 1, &none, V, &idx), SEL_NO_INSTANCE);
    /* one instance, no template: that one */
    const char *one[] = {"d2"};
    cr_assert_eq(instance_select(all, 3, one, 1, &none, V, &idx), SEL_OK);
    cr_assert_eq(idx, 2, "names compare case-insensitively");
    /* with a template: the first bound instance whose every value matches */
    cr_assert(route_template_parse("{districtId}/{schoolYear}", &t, err, sizeof err));
    const char *two[] = {"d1", "d2"};
    snprintf(V[0], sizeof V[0], "255902");
    snprintf(V[1], sizeof V[1], "2026");
    cr_assert_eq(instance_select(all, 3, two, 2, &t, V, &idx), SEL_OK);
    cr_assert_eq(idx, 2);
    snprintf(V[1], sizeof V[1], "2025");
    cr_assert_eq(instance_select(all, 3, two, 2, &t, V, &idx), SEL_NO_MATCH);
    /* a bound instance without the key never matches */
    const char *def[] = {"default"};
    cr_assert_eq(instance_select(all, 3, def, 1, &t, V, &idx), SEL_NO_MATCH);
}

Test(instance_select, context_values_are_checked)
{
    instance_def d = {0};
    char msg[256];
    cr_assert_not(instance_context_add(&d, "schoolYear", msg, sizeof msg));
    cr_assert_not(instance_context_add(&d, "=2026", msg, sizeof msg));
    cr_assert_not(instance_context_add(&d, "schoolYear=20/26", msg, sizeof msg));
    cr_assert_not(instance_context_add(&d, "schoolYear=", msg, sizeof msg));
    cr_assert(instance_context_add(&d, "schoolYear=2026", msg, sizeof msg));
    cr_assert(instance_context_add(&d, "SCHOOLYEAR=2027", msg, sizeof msg), "a key given again replaces its value");
    cr_assert_eq(d.nctx, 1);
    cr_assert_str_eq(d.ctx_val[0], "2027");
    cr_assert(instance_name_ok("d255901-2026_a"));
    cr_assert_not(instance_name_ok("../x"));
    cr_assert_not(instance_name_ok(""));
}

Test(registry, instances_and_snapshots_in_an_admin_store)
{
    char path[] = "/tmp/edhub-unit-instances-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    unlink(path);
    admin_store *a = NULL;
    char err[256], msg[256];
    cr_assert_eq(admin_open(path, &a, err, sizeof err), ERR_OK, "%s", err);
    instance_def d = inst("D255901", "districtId", "255901", NULL, NULL);
    snprintf(d.type, sizeof d.type, "district");
    cr_assert_eq(instances_put(a, &d, true, "unit", msg, sizeof msg), ERR_OK, "%s", msg);
    cr_assert_eq(instances_put(a, &d, true, "unit", msg, sizeof msg), ERR_CONFLICT);
    instance_def dflt = inst("default", NULL, NULL, NULL, NULL);
    cr_assert_eq(instances_put(a, &dflt, true, "unit", msg, sizeof msg), ERR_CONFLICT, "default always exists");
    instance_def *all = NULL;
    int n = 0;
    cr_assert_eq(instances_list(a, "/dep", &all, &n), ERR_OK);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(all[0].name, "default");
    cr_assert_str_eq(all[0].dir, "/dep");
    cr_assert_str_eq(all[1].name, "D255901");
    cr_assert_str_eq(all[1].dir, "/dep/instances/d255901");
    cr_assert_str_eq(all[1].ctx_val[0], "255901");
    free(all);
    instance_def got, again;
    cr_assert_eq(instances_get(a, "/dep", "d255901", &got), ERR_OK);
    cr_assert_str_eq(got.type, "district");
    cr_assert_eq(strlen(got.uid), 36, "a registration has an identity");
    snprintf(got.type, sizeof got.type, "district2");
    cr_assert_eq(instances_put(a, &got, false, "unit", msg, sizeof msg), ERR_OK, "%s", msg);
    cr_assert_eq(instances_get(a, "/dep", "d255901", &again), ERR_OK);
    cr_assert_str_eq(again.uid, got.uid, "an update keeps it");
    /* snapshots: newest live one, retired ones stay known */
    snapshot_def s1 = {0}, s2 = {0}, out;
    snprintf(s1.instance, sizeof s1.instance, "D255901");
    snprintf(s1.name, sizeof s1.name, "2026-10-01");
    snprintf(s1.created, sizeof s1.created, "2026-10-01T00:00:00Z");
    s2 = s1;
    snprintf(s2.name, sizeof s2.name, "2026-11-01");
    snprintf(s2.created, sizeof s2.created, "2026-11-01T00:00:00Z");
    cr_assert_eq(snapshots_add(a, &s2, "unit", msg, sizeof msg), ERR_OK, "%s", msg);
    cr_assert_eq(snapshots_add(a, &s1, "unit", msg, sizeof msg), ERR_OK, "%s", msg);
    cr_assert_eq(snapshots_add(a, &s1, "unit", msg, sizeof msg), ERR_CONFLICT);
    cr_assert_eq(snapshots_newest(a, "d255901", &out), ERR_OK);
    cr_assert_str_eq(out.name, "2026-11-01");
    cr_assert_eq(snapshots_retire(a, "d255901", "2026-11-01", "unit", msg, sizeof msg), ERR_OK, "%s", msg);
    cr_assert_eq(snapshots_newest(a, "d255901", &out), ERR_OK);
    cr_assert_str_eq(out.name, "2026-10-01");
    cr_assert_eq(snapshots_get(a, "d255901", "2026-11-01", &out), ERR_OK);
    cr_assert(out.retired);
    cr_assert_eq(snapshots_get(a, "d255901", "../etc", &out), ERR_NOT_FOUND);
    cr_assert_eq(snapshots_newest(a, "other", &out), ERR_NOT_FOUND);
    cr_assert_eq(instances_remove(a, "d255901", "unit", msg, sizeof msg), ERR_OK, "%s", msg);
    cr_assert_eq(instances_remove(a, "d255901", "unit", msg, sizeof msg), ERR_NOT_FOUND);
    cr_assert_eq(instances_put(a, &d, true, "unit", msg, sizeof msg), ERR_OK, "%s", msg);
    cr_assert_eq(instances_get(a, "/dep", "d255901", &again), ERR_OK);
    cr_assert_str_neq(again.uid, got.uid, "a re-created instance is another one");
    cr_assert_eq(instances_remove(a, "default", "unit", msg, sizeof msg), ERR_INVALID);
    admin_close(a);
    unlink(path);
    char side[300];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}
