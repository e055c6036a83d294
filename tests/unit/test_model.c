/* Unit tests for src/model/model.c and deps.c against the DS 5.2 ApiSchema:
 * resource tables, lookups, subclass links, references, query fields and
 * the dependency order (api-behavior §1, §2.2, §8, §9). */
#include "base/arena.h"
#include "model/model.h"
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include "leak.h"

#define MODEL_PATH "model/ds-5.2/ApiSchema.json"

static model *M;

static void load(void)
{
    char err[256] = "";
    M = model_load(MODEL_PATH, err, sizeof err);
    cr_assert_not_null(M, "model_load: %s", err);
}

static void unload(void)
{
    model_free(M);
    unit_leak_check();
}

TestSuite(model, .init = load, .fini = unload);

static mresource *res(const char *endpoint)
{
    mresource *r = model_find(M, "ed-fi", endpoint);
    cr_assert_not_null(r, "no resource %s", endpoint);
    return r;
}

static const mquery *query(const mresource *r, const char *name)
{
    for (int i = 0; i < r->nquery; i++)
        if (!strcmp(r->query[i].name, name)) return &r->query[i];
    return NULL;
}

Test(model, project_and_counts)
{
    cr_assert_str_eq(M->project_name, "Ed-Fi");
    cr_assert_str_eq(M->project_version, "5.2.0");
    cr_assert_eq(M->nres, 349);
    cr_assert_eq(M->nabs, 2);
    for (int i = 0; i < M->nres; i++) cr_assert_eq(M->res[i].index, i);
}

Test(model, find_is_case_insensitive)
{
    mresource *a = model_find(M, "ed-fi", "schools");
    cr_assert_not_null(a);
    cr_assert_eq(model_find(M, "ed-fi", "SCHOOLS"), a);
    cr_assert_eq(model_find(M, "ED-FI", "Schools"), a);
    cr_assert_str_eq(a->endpoint, "schools");
    cr_assert_str_eq(a->name, "School");
    cr_assert_str_eq(a->path, "/ed-fi/schools");
    cr_assert_str_eq(a->project_name, "Ed-Fi");
    cr_assert_eq(model_find(M, "ed-fi", "studentschoolassociations"), model_find(M, "ed-fi", "studentSchoolAssociations"));
}

Test(model, find_unknown)
{
    cr_assert_null(model_find(M, "ed-fi", "school"));
    cr_assert_null(model_find(M, "ed-fi", "nosuchthings"));
    cr_assert_null(model_find(M, "tpdm", "schools"));
    cr_assert_null(model_find(M, "ed-fi", ""));
}

Test(model, every_resource_findable)
{
    for (int i = 0; i < M->nres; i++)
        cr_assert_eq(model_find(M, "ed-fi", M->res[i].endpoint), &M->res[i], "%s", M->res[i].endpoint);
}

Test(model, find_by_name)
{
    mresource *s = model_find_by_name(M, "Ed-Fi", "School");
    cr_assert_not_null(s);
    cr_assert_str_eq(s->endpoint, "schools");
    cr_assert_eq(model_find_by_name(M, NULL, "Student"), res("students"));
    cr_assert_null(model_find_by_name(M, "Ed-Fi", "EducationOrganization"), "abstract: no resource");
    cr_assert_null(model_find_by_name(M, "TPDM", "School"));
}

Test(model, school_is_education_organization_subclass)
{
    mresource *s = res("schools");
    cr_assert(s->is_subclass);
    cr_assert_not(s->subclass_association);
    cr_assert_str_eq(s->superclass_name, "EducationOrganization");
    cr_assert_str_eq(s->superclass_identity_path, "$.educationOrganizationId");
    cr_assert_not_null(s->superclass);
    cr_assert_str_eq(s->superclass->name, "EducationOrganization");
    cr_assert_eq(s->superclass->nidentity, 1);
    cr_assert_str_eq(s->superclass->identity[0].text, "$.educationOrganizationId");
    bool listed = false;
    for (int i = 0; i < s->superclass->nconcrete; i++) listed |= s->superclass->concrete[i] == s;
    cr_assert(listed, "School must be a concrete EducationOrganization");
    cr_assert_eq(s->nidentity, 1);
    cr_assert_str_eq(s->identity[0].text, "$.schoolId");
    cr_assert_not(s->allow_identity_updates);
}

Test(model, education_organization_concrete_set)
{
    mresource *s = res("schools");
    const char *want[] = {"schools", "localEducationAgencies", "stateEducationAgencies", "educationServiceCenters",
                          "communityOrganizations", "communityProviders", "educationOrganizationNetworks",
                          "organizationDepartments", "postSecondaryInstitutions"};
    cr_assert_eq(s->superclass->nconcrete, 9);
    for (size_t k = 0; k < sizeof want / sizeof *want; k++) {
        bool found = false;
        for (int i = 0; i < s->superclass->nconcrete; i++) found |= !strcmp(s->superclass->concrete[i]->endpoint, want[k]);
        cr_assert(found, "%s missing from EducationOrganization", want[k]);
    }
}

Test(model, association_subclass)
{
    mresource *r = res("studentProgramAssociations");
    cr_assert(r->is_subclass);
    cr_assert(r->subclass_association);
    cr_assert_str_eq(r->superclass->name, "GeneralStudentProgramAssociation");
    cr_assert_eq(r->superclass->nidentity, r->nidentity);
}

Test(model, student_school_association)
{
    mresource *r = res("studentSchoolAssociations");
    cr_assert_str_eq(r->name, "StudentSchoolAssociation");
    cr_assert(r->allow_identity_updates);
    cr_assert_not(r->is_subclass);
    cr_assert_eq(r->nidentity, 3);
    cr_assert_str_eq(r->identity[0].text, "$.entryDate");
    cr_assert_str_eq(r->identity[1].text, "$.schoolReference.schoolId");
    cr_assert_str_eq(r->identity[2].text, "$.studentReference.studentUniqueId");
    cr_assert_eq(r->identity[1].nseg, 2);
    cr_assert_str_eq(r->identity[1].seg[0].name, "schoolReference");
    cr_assert_str_eq(r->identity[1].seg[1].name, "schoolId");
    cr_assert_eq(r->nequal, 2);
    cr_assert_str_eq(r->equal[0].source.text, "$.calendarReference.schoolId");
    cr_assert_str_eq(r->equal[0].target.text, "$.schoolReference.schoolId");
    cr_assert_str_eq(r->equal[1].source.text, "$.calendarReference.schoolYear");
    cr_assert_str_eq(r->equal[1].target.text, "$.schoolYearTypeReference.schoolYear");
}

Test(model, references_of_student_school_association)
{
    mresource *r = res("studentSchoolAssociations");
    const mref *s = NULL, *st = NULL;
    for (int i = 0; i < r->nrefs; i++) {
        if (!strcmp(r->refs[i].object_path.text, "$.schoolReference")) s = &r->refs[i];
        if (!strcmp(r->refs[i].object_path.text, "$.studentReference")) st = &r->refs[i];
    }
    cr_assert_not_null(s);
    cr_assert_not_null(st);
    cr_assert_eq(s->target, res("schools"));
    cr_assert_str_eq(s->target_name, "School");
    cr_assert_str_eq(s->target_project, "Ed-Fi");
    cr_assert_eq(s->nmembers, 1);
    cr_assert_str_eq(s->members[0].ident_path, "$.schoolId");
    cr_assert_str_eq(s->members[0].ref_path.text, "$.schoolReference.schoolId");
    cr_assert_str_eq(s->members[0].leaf, "schoolId");
    cr_assert(s->in_identity);
    cr_assert_eq(st->target, res("students"));
    cr_assert(st->in_identity);
    /* a reference that is not part of the identity */
    const mref *cal = NULL;
    for (int i = 0; i < r->nrefs; i++)
        if (!strcmp(r->refs[i].object_path.text, "$.calendarReference")) cal = &r->refs[i];
    cr_assert_not_null(cal);
    cr_assert_not(cal->in_identity);
    cr_assert_eq(cal->nmembers, 3);
    /* the entry grade level is a descriptor reference */
    bool found = false;
    for (int i = 0; i < r->ndescs; i++)
        if (!strcmp(r->descs[i].path.text, "$.entryGradeLevelDescriptor")) {
            found = true;
            cr_assert_str_eq(r->descs[i].descriptor_name, "GradeLevelDescriptor");
            cr_assert_str_eq(r->descs[i].project, "Ed-Fi");
        }
    cr_assert(found);
}

Test(model, abstract_reference_target)
{
    /* programs reference an abstract EducationOrganization */
    mresource *p = res("programs");
    const mref *f = NULL;
    for (int i = 0; i < p->nrefs; i++)
        if (!strcmp(p->refs[i].object_path.text, "$.educationOrganizationReference")) f = &p->refs[i];
    cr_assert_not_null(f);
    cr_assert_null(f->target);
    cr_assert_not_null(f->target_abstract);
    cr_assert_str_eq(f->target_abstract->name, "EducationOrganization");
    cr_assert_str_eq(f->members[0].ident_path, "$.educationOrganizationId");
}

Test(model, collection_reference_paths)
{
    mresource *b = res("bellSchedules");
    const mref *cp = NULL;
    for (int i = 0; i < b->nrefs; i++)
        if (!strcmp(b->refs[i].object_path.text, "$.classPeriods[*].classPeriodReference")) cp = &b->refs[i];
    cr_assert_not_null(cp, "bellSchedules.classPeriods[*].classPeriodReference");
    cr_assert_eq(cp->object_path.nseg, 2);
    cr_assert(cp->object_path.seg[0].array);
    cr_assert_str_eq(cp->object_path.seg[0].name, "classPeriods");
    cr_assert_not(cp->in_identity);
}

Test(model, descriptors_flagged)
{
    mresource *g = res("gradeLevelDescriptors");
    cr_assert(g->is_descriptor);
    cr_assert_str_eq(g->name, "GradeLevelDescriptor");
    cr_assert_eq(g->nidentity, 0);
    cr_assert_not(res("schools")->is_descriptor);
    cr_assert_not(res("students")->is_descriptor);
    int n = 0;
    for (int i = 0; i < M->nres; i++) {
        size_t l = strlen(M->res[i].name);
        bool named = l > 10 && !strcmp(M->res[i].name + l - 10, "Descriptor");
        cr_assert_eq(M->res[i].is_descriptor, named, "%s", M->res[i].name);
        n += M->res[i].is_descriptor;
    }
    cr_assert_gt(n, 100);
}

Test(model, descriptor_trim_and_patterns)
{
    const snode *s = res("gradeLevelDescriptors")->schema;
    cr_assert_eq(s->type, JT_OBJECT);
    int seen = 0;
    for (int i = 0; i < s->nprops; i++) {
        const char *pn = s->prop_names[i];
        const snode *p = s->props[i];
        if (!strcmp(pn, "codeValue") || !strcmp(pn, "shortDescription")) {
            cr_assert(p->trim, "%s trimmed", pn);
            cr_assert_eq(p->pattern, PAT_EDGES);
            cr_assert(s->required[i]);
            seen++;
        } else if (!strcmp(pn, "namespace")) {
            cr_assert_not(p->trim);
            cr_assert_eq(p->pattern, PAT_EDGES);
            cr_assert_eq(p->max_len, 255);
            seen++;
        } else if (!strcmp(pn, "description")) {
            cr_assert_not(p->trim);
            cr_assert_eq(p->pattern, PAT_NONE);
            cr_assert_not(s->required[i]);
            seen++;
        }
    }
    cr_assert_eq(seen, 4);
}

Test(model, school_year_types)
{
    mresource *y = res("schoolYearTypes");
    cr_assert(y->is_school_year);
    cr_assert_str_eq(y->name, "SchoolYearType");
    cr_assert_eq(y->nidentity, 1);
    cr_assert_str_eq(y->identity[0].text, "$.schoolYear");
}

Test(model, student_schema_nodes)
{
    const snode *s = res("students")->schema;
    int seen = 0;
    for (int i = 0; i < s->nprops; i++) {
        const char *pn = s->prop_names[i];
        const snode *p = s->props[i];
        if (!strcmp(pn, "studentUniqueId")) {
            cr_assert_eq(p->pattern, PAT_IDENTITY);
            cr_assert_eq(p->max_len, 32);
            cr_assert(s->required[i]);
            seen++;
        } else if (!strcmp(pn, "firstName")) {
            cr_assert_eq(p->pattern, PAT_REQUIRED);
            cr_assert(s->required[i]);
            seen++;
        } else if (!strcmp(pn, "birthDate")) {
            cr_assert_eq(p->format, FMT_DATE);
            seen++;
        } else if (!strcmp(pn, "birthCountryDescriptor")) {
            cr_assert(p->is_descriptor_value);
            cr_assert_not(s->required[i]);
            seen++;
        } else if (!strcmp(pn, "middleName")) {
            cr_assert_eq(p->pattern, PAT_NONE);
            seen++;
        }
    }
    cr_assert_eq(seen, 5);
}

Test(model, query_fields)
{
    mresource *s = res("sessions");
    const mquery *q = query(s, "schoolId");
    cr_assert_not_null(q, "sessions?schoolId");
    cr_assert_str_eq(q->path.text, "$.schoolReference.schoolId");
    cr_assert_eq(q->type, QT_NUMBER);
    cr_assert_not(q->descriptor);
    q = query(s, "beginDate");
    cr_assert_not_null(q);
    cr_assert_eq(q->type, QT_DATE);
    q = query(s, "termDescriptor");
    cr_assert_not_null(q);
    cr_assert(q->descriptor);
    cr_assert_not_null(query(s, "id"));
    cr_assert_null(query(s, "SCHOOLID"), "names are stored as published");

    mresource *ssa = res("studentSchoolAssociations");
    q = query(ssa, "nextYearSchoolId");
    cr_assert_not_null(q);
    cr_assert_str_eq(q->path.text, "$.nextYearSchoolReference.schoolId");
    q = query(ssa, "schoolId");
    cr_assert_not_null(q);
    cr_assert_str_eq(q->path.text, "$.schoolReference.schoolId");
    q = query(ssa, "primarySchool");
    cr_assert_not_null(q);
    cr_assert_eq(q->type, QT_BOOLEAN);
}

Test(model, mpath_parse_forms)
{
    arena a;
    arena_init(&a, 0);
    mpath p;
    cr_assert(mpath_parse(&a, "$.a[*].b.c", &p));
    cr_assert_eq(p.nseg, 3);
    cr_assert_str_eq(p.seg[0].name, "a");
    cr_assert(p.seg[0].array);
    cr_assert_str_eq(p.seg[1].name, "b");
    cr_assert_not(p.seg[1].array);
    cr_assert_str_eq(p.seg[2].name, "c");
    cr_assert_str_eq(p.text, "$.a[*].b.c");
    cr_assert(mpath_parse(&a, "$.x", &p));
    cr_assert_eq(p.nseg, 1);
    cr_assert_not(mpath_parse(&a, "$", &p));
    cr_assert_not(mpath_parse(&a, "a.b", &p));
    cr_assert_not(mpath_parse(&a, "$.a..b", &p));
    cr_assert_not(mpath_parse(&a, "$.a[0].b", &p));
    cr_assert_not(mpath_parse(&a, "$.a[*]b", &p));
    arena_free(&a);
}

Test(model, load_failure_reports)
{
    char err[256] = "";
    cr_assert_null(model_load("/nonexistent/ApiSchema.json", err, sizeof err));
    cr_assert(strstr(err, "cannot open") != NULL, "%s", err);
}

/* ---- dependencies ---- */

static json_object *deps_json(void)
{
    char *t = model_dependencies_json(M);
    cr_assert_not_null(t);
    json_object *j = json_tokener_parse(t);
    free(t);
    cr_assert_not_null(j, "dependencies is not JSON");
    cr_assert(json_object_is_type(j, json_type_array));
    return j;
}

static const char *ops_text(json_object *e) { return json_object_to_json_string_ext(json_object_object_get(e, "operations"), JSON_C_TO_STRING_PLAIN); }

/* Position of the n-th (0-based) entry for resource path p, or -1. */
static int find_entry(json_object *arr, const char *p, int nth)
{
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        if (!strcmp(json_object_get_string(json_object_object_get(e, "resource")), p) && nth-- == 0) return (int)i;
    }
    return -1;
}

static int order_at(json_object *arr, int i)
{
    return json_object_get_int(json_object_object_get(json_object_array_get_idx(arr, (size_t)i), "order"));
}

Test(model, dependencies_cover_every_resource)
{
    json_object *d = deps_json();
    /* every resource but schoolYearTypes (removed, §2.2), plus the three
     * person Update entries */
    cr_assert_eq(json_object_array_length(d), (size_t)(M->nres - 1 + 3));
    for (int i = 0; i < M->nres; i++) {
        int at = find_entry(d, M->res[i].path, 0);
        if (M->res[i].is_school_year) cr_assert_eq(at, -1, "schoolYearTypes must not be listed");
        else cr_assert_geq(at, 0, "%s missing", M->res[i].path);
    }
    json_object_put(d);
}

Test(model, dependencies_entry_shape_and_order)
{
    json_object *d = deps_json();
    int prev = 0;
    for (size_t i = 0; i < json_object_array_length(d); i++) {
        json_object *e = json_object_array_get_idx(d, i);
        cr_assert_eq(json_object_object_length(e), 3);
        const char *rp = json_object_get_string(json_object_object_get(e, "resource"));
        cr_assert_eq(strncmp(rp, "/ed-fi/", 7), 0, "%s", rp);
        const char *ops = ops_text(e);
        cr_assert(!strcmp(ops, "[\"Create\",\"Update\"]") || !strcmp(ops, "[\"Create\"]") || !strcmp(ops, "[\"Update\"]"),
                  "%s", ops);
        int o = json_object_get_int(json_object_object_get(e, "order"));
        cr_assert_geq(o, prev, "orders must not decrease (entry %zu)", i);
        cr_assert_geq(o, 1);
        prev = o;
    }
    cr_assert_eq(order_at(d, 0), 1);
    json_object_put(d);
}

Test(model, dependencies_descriptors_schools_sessions)
{
    json_object *d = deps_json();
    int g = find_entry(d, "/ed-fi/gradeLevelDescriptors", 0);
    int s = find_entry(d, "/ed-fi/schools", 0);
    int ses = find_entry(d, "/ed-fi/sessions", 0);
    int lea = find_entry(d, "/ed-fi/localEducationAgencies", 0);
    cr_assert(g >= 0 && s >= 0 && ses >= 0 && lea >= 0);
    cr_assert_eq(order_at(d, g), 1, "descriptors have no dependencies");
    cr_assert_lt(order_at(d, g), order_at(d, s));
    cr_assert_lt(order_at(d, s), order_at(d, ses));
    cr_assert_lt(order_at(d, lea), order_at(d, s), "schools reference their LEA");
    cr_assert_str_eq(ops_text(json_object_array_get_idx(d, (size_t)s)), "[\"Create\",\"Update\"]");
    json_object_put(d);
}

Test(model, dependencies_layer_sorted_by_path)
{
    json_object *d = deps_json();
    for (size_t i = 1; i < json_object_array_length(d); i++) {
        json_object *a = json_object_array_get_idx(d, i - 1), *b = json_object_array_get_idx(d, i);
        if (order_at(d, (int)i - 1) != order_at(d, (int)i)) continue;
        /* the person Update entries are inserted at the head of a group */
        if (!strcmp(ops_text(a), "[\"Update\"]") || !strcmp(ops_text(b), "[\"Update\"]")) continue;
        cr_assert_lt(strcmp(json_object_get_string(json_object_object_get(a, "resource")),
                            json_object_get_string(json_object_object_get(b, "resource"))),
                     0, "entry %zu out of order", i);
    }
    json_object_put(d);
}

Test(model, dependencies_students_twice)
{
    json_object *d = deps_json();
    int c = find_entry(d, "/ed-fi/students", 0);
    int u = find_entry(d, "/ed-fi/students", 1);
    int ssa = find_entry(d, "/ed-fi/studentSchoolAssociations", 0);
    cr_assert(c >= 0 && u >= 0 && ssa >= 0);
    cr_assert_eq(find_entry(d, "/ed-fi/students", 2), -1);
    cr_assert_str_eq(ops_text(json_object_array_get_idx(d, (size_t)c)), "[\"Create\"]");
    cr_assert_str_eq(ops_text(json_object_array_get_idx(d, (size_t)u)), "[\"Update\"]");
    cr_assert_lt(order_at(d, c), order_at(d, ssa));
    cr_assert_eq(order_at(d, u), order_at(d, ssa) + 1);
    /* inserted at the head of its group: only other Update entries (the
     * contacts one, inserted later) may precede it within the order */
    for (int i = u - 1; i >= 0 && order_at(d, i) == order_at(d, u); i--)
        cr_assert_str_eq(ops_text(json_object_array_get_idx(d, (size_t)i)), "[\"Update\"]");
    json_object_put(d);
}

Test(model, dependencies_staffs_and_contacts_twice)
{
    json_object *d = deps_json();
    int sc = find_entry(d, "/ed-fi/staffs", 0), su = find_entry(d, "/ed-fi/staffs", 1);
    int emp = find_entry(d, "/ed-fi/staffEducationOrganizationEmploymentAssociations", 0);
    int asg = find_entry(d, "/ed-fi/staffEducationOrganizationAssignmentAssociations", 0);
    cr_assert(sc >= 0 && su >= 0 && emp >= 0 && asg >= 0);
    int mx = order_at(d, emp) > order_at(d, asg) ? order_at(d, emp) : order_at(d, asg);
    cr_assert_eq(order_at(d, su), mx + 1);
    cr_assert_str_eq(ops_text(json_object_array_get_idx(d, (size_t)sc)), "[\"Create\"]");

    int cc = find_entry(d, "/ed-fi/contacts", 0), cu = find_entry(d, "/ed-fi/contacts", 1);
    int sca = find_entry(d, "/ed-fi/studentContactAssociations", 0);
    int ssa = find_entry(d, "/ed-fi/studentSchoolAssociations", 0);
    cr_assert(cc >= 0 && cu >= 0 && sca >= 0);
    mx = order_at(d, sca) > order_at(d, ssa) ? order_at(d, sca) : order_at(d, ssa);
    cr_assert_eq(order_at(d, cu), mx + 1);
    json_object_put(d);
}

Test(model, dependencies_respect_required_references)
{
    /* For every resource, every required top-level reference target (or
     * every concrete subclass of an abstract target) comes earlier. */
    json_object *d = deps_json();
    for (int i = 0; i < M->nres; i++) {
        const mresource *r = &M->res[i];
        if (r->is_school_year) continue;
        int me = order_at(d, find_entry(d, r->path, 0));
        for (int k = 0; k < r->nrefs; k++) {
            const mref *f = &r->refs[k];
            if (f->object_path.nseg != 1) continue;
            bool req = false;
            for (int p = 0; p < r->schema->nprops; p++)
                if (!strcmp(r->schema->prop_names[p], f->object_path.seg[0].name)) req = r->schema->required[p];
            if (!req || (f->target && (f->target == r || f->target->is_school_year))) continue;
            if (f->target) {
                int t = order_at(d, find_entry(d, f->target->path, 0));
                cr_assert_lt(t, me, "%s must come after %s", r->path, f->target->path);
            }
        }
    }
    json_object_put(d);
}

/* ---- securable elements and the EdOrg hierarchy (security.md §2.7) ---- */

static const msecurable *securable(const mresource *r, msec_kind kind, int nth)
{
    for (int i = 0; i < r->nsecurable; i++)
        if (r->securable[i].kind == kind && nth-- == 0) return &r->securable[i];
    return NULL;
}

Test(model, securable_elements)
{
    const mresource *ssa = res("studentSchoolAssociations");
    cr_assert_str_eq(securable(ssa, MSEC_EDORG, 0)->path.text, "$.schoolReference.schoolId");
    cr_assert_str_eq(securable(ssa, MSEC_EDORG, 0)->meta_name, "SchoolId");
    cr_assert_str_eq(securable(ssa, MSEC_STUDENT, 0)->path.text, "$.studentReference.studentUniqueId");
    cr_assert_null(securable(ssa, MSEC_NAMESPACE, 0));
    const mresource *sa = res("studentAssessments");
    cr_assert_str_eq(securable(sa, MSEC_EDORG, 0)->path.text, "$.reportedSchoolReference.schoolId");
    cr_assert_str_eq(securable(sa, MSEC_NAMESPACE, 0)->path.text, "$.assessmentReference.namespace");
    cr_assert_str_eq(securable(res("students"), MSEC_STUDENT, 0)->path.text, "$.studentUniqueId");
    cr_assert_str_eq(securable(res("gradeLevelDescriptors"), MSEC_NAMESPACE, 0)->path.text, "$.namespace");
    cr_assert_str_eq(securable(res("studentContactAssociations"), MSEC_CONTACT, 0)->path.text,
                     "$.contactReference.contactUniqueId");
    cr_assert_eq(res("schoolYearTypes")->nsecurable, 0);
}

Test(model, education_organization_hierarchy)
{
    const mresource *school = res("schools"), *lea = res("localEducationAgencies"), *sea = res("stateEducationAgencies");
    cr_assert(school->is_edorg && lea->is_edorg && sea->is_edorg);
    cr_assert_not(res("students")->is_edorg);
    cr_assert_eq(school->nparents, 1);
    cr_assert_str_eq(school->parents[0].parent_name, "LocalEducationAgency");
    cr_assert_str_eq(school->parents[0].path.text, "$.localEducationAgencyReference.localEducationAgencyId");
    cr_assert_eq(lea->nparents, 3, "parent LEA, ESC and SEA");
    cr_assert_eq(sea->nparents, 0, "a root");
}
