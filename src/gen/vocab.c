/* Descriptor vocabularies of the generator; see vocab.h. Weights are rough
 * shares of real state data (race, disability categories and special
 * education settings after the federal IDEA and NCES tables), not exact. */
#include "vocab.h"
#include "../base/arena.h"
#include "../base/jsonx.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ventry { const char *code; unsigned weight; } ventry;
typedef struct vtable { const char *kind; const ventry *e; int n; } vtable;

#define T(kind, arr) {kind, arr, (int)(sizeof arr / sizeof arr[0])}

static const ventry sex[] = {{"Female", 490}, {"Male", 500}, {"Non-binary", 5}, {"Not Selected", 5}};
static const ventry race[] = {{"White", 500}, {"Black or African American", 150}, {"Asian", 55},
                              {"American Indian or Alaska Native", 12}, {"Native Hawaiian or Pacific Islander", 5},
                              {"Middle Eastern or North African", 10}, {"Other", 20}, {"Choose Not to Respond", 10}};
static const ventry lep[] = {{"Limited", 0}, {"Limited Monitored 1", 0}, {"NotLimited", 0}};
/* Indexed by grade slot: 0 age 3, 1 age 4, 2 K, 3..14 grades 1-12, 15 ages 18-21. */
static const ventry grade[] = {{"Preschool", 0}, {"Prekindergarten", 0}, {"Kindergarten", 0}, {"First grade", 0},
                               {"Second grade", 0}, {"Third grade", 0}, {"Fourth grade", 0}, {"Fifth grade", 0},
                               {"Sixth grade", 0}, {"Seventh grade", 0}, {"Eighth grade", 0}, {"Ninth grade", 0},
                               {"Tenth grade", 0}, {"Eleventh grade", 0}, {"Twelfth grade", 0}, {"Ungraded", 0}};
static const ventry cal_event[] = {{"Instructional day", 0}, {"Holiday", 0}};
static const ventry cal_type[] = {{"School", 1}};
static const ventry term[] = {{"Fall Semester", 0}, {"Spring Semester", 0}};
static const ventry subject[] = {{"English Language Arts", 0}, {"Mathematics", 0}, {"Science", 0},
                                 {"Social Studies", 0}, {"Physical, Health, and Safety Education", 0},
                                 {"Fine and Performing Arts", 0}, {"Career and Technical Education", 0},
                                 {"Cross Subject", 0}};
static const ventry entry_type[] = {{"Next year school", 0}, {"New to education system", 0}, {"Transfer", 0}};
static const ventry exit_type[] = {{"Transferred", 70}, {"Withdrawn", 15}, {"Other", 5}, {"Dropout", 0},
                                   {"Expelled", 1}};
static const ventry disability[] = {{"Specific Learning Disability", 320}, {"Speech or Language Impairment", 190},
                                    {"Other Health Impairment", 150}, {"Autism Spectrum Disorders", 120},
                                    {"Intellectual Disability", 60}, {"Serious Emotional Disability", 50},
                                    {"Multiple Disabilities", 20}, {"Hearing Impairment, including Deafness", 10},
                                    {"Orthopedic Impairment", 8}, {"Visual Impairment, including Blindness", 4},
                                    {"Traumatic Brain Injury", 4}, {"Deaf-Blindness", 1}};
/* Ages 3-5 (IDEA Part B section 619). */
static const ventry disability_ec[] = {{"Preschooler with a Disability", 40}, {"Speech or Language Impairment", 35},
                                       {"Autism Spectrum Disorders", 20}, {"Other Health Impairment", 5}};
static const ventry setting[] = {{"Inside regular class 80% or more of the day", 650},
                                 {"Inside regular class between 40-79% of the day", 170},
                                 {"Inside regular class less than 40% of the day", 130},
                                 {"Separate school", 30},
                                 {"Residential facility", 3},
                                 {"Homebound/Hospital", 7},
                                 {"Correctional facilities", 2},
                                 {"Parentally-placed in private schools", 8}};
static const ventry setting_ec[] = {{"Regular early childhood program (10+ hrs)", 400},
                                    {"Regular early childhood program (less than 10 hrs)", 150},
                                    {"Separate class", 250},
                                    {"Service provider location", 100},
                                    {"Home", 50},
                                    {"Other early childhood location (10+ hrs)", 50}};
static const ventry sped_service[] = {{"Speech-Language And Audiology Services", 35},
                                      {"Occupational And Physical Therapy", 15},
                                      {"Counseling Services", 15},
                                      {"Psychological Services", 10},
                                      {"Social Work Services", 10},
                                      {"School Health and/or School Nurse Services", 5},
                                      {"Orientation And Mobility", 2},
                                      {"Interpreting Services", 2},
                                      {"Parent Counseling And Training", 6}};
static const ventry program_type[] = {{"Special Education", 0}, {"Student School Food Service", 0},
                                      {"English as a Second Language (ESL)", 0}};
static const ventry attendance[] = {{"In Attendance", 0}, {"Excused Absence", 45}, {"Unexcused Absence", 30},
                                    {"Tardy", 20}, {"Early departure", 5}};
static const ventry behavior[] = {{"School Code of Conduct", 70}, {"School Violation", 20}, {"State Offense", 8},
                                  {"Other", 2}};
static const ventry incident_location[] = {{"Classroom", 30}, {"Hallway or stairs", 20}, {"Cafeteria area", 12},
                                           {"Athletic field or playground", 10}, {"School bus", 8},
                                           {"Restroom", 5}, {"Locker room or gym areas", 5}, {"Parking lot", 3},
                                           {"Bus stop", 2}, {"Online", 5}};
static const ventry discipline[] = {{"In School Suspension", 40}, {"Out of School Suspension", 25},
                                    {"Removal from Classroom", 15}, {"Community Service", 5}, {"Other", 10},
                                    {"Expulsion", 1}, {"No action for incident", 4}};
static const ventry participation[] = {{"Perpetrator", 1}};
static const ventry reporter[] = {{"Staff", 80}, {"Student", 10}, {"Parent/guardian", 5},
                                  {"Law enforcement officer", 1}, {"Other", 4}};
static const ventry staff_class[] = {{"Elementary Teacher", 0}, {"Secondary Teacher", 0}, {"Principal", 0},
                                     {"Superintendent", 0}};
static const ventry classroom_position[] = {{"Teacher of Record", 1}};
static const ventry program_assignment[] = {{"Regular Education", 0}, {"Special Education", 0}};
static const ventry school_category[] = {{"Elementary School", 0}, {"Middle School", 0}, {"High School", 0}};
static const ventry edorg_category[] = {{"State Education Agency", 0}, {"Local Education Agency", 0}, {"School", 0}};
static const ventry lea_category[] = {{"Independent", 80}, {"Regular public school district", 15}, {"Charter", 5}};
static const ventry school_type[] = {{"Regular", 1}};
static const ventry state[] = {{"TX", 1}};
static const ventry address_type[] = {{"Physical", 1}};
static const ventry course_id_system[] = {{"LEA course code", 1}};
static const ventry level_of_education[] = {{"Bachelor's", 55}, {"Master's", 40}, {"Doctorate", 5}};
static const ventry characteristic[] = {{"Economic Disadvantaged", 1}};
static const ventry food_service[] = {{"Free Lunch", 70}, {"Reduced Price Lunch", 30}};
static const ventry language_service[] = {{"ESL or ELD", 40}, {"Pull-Out ESL", 20}, {"Content-Based ESL", 15},
                                          {"Sheltered English Instruction", 10}, {"Dual Language", 10},
                                          {"Transitional Bilingual", 5}};
static const ventry language[] = {{"spa", 760}, {"vie", 40}, {"ara", 40}, {"chi", 40}, {"som", 15}, {"kor", 10},
                                  {"hmn", 10}, {"rus", 10}, {"por", 10}, {"hai", 15}, {"tgl", 20}, {"urd", 15},
                                  {"fre", 15}};
static const ventry language_use[] = {{"Home language", 1}};
static const ventry section_type[] = {{"Attendance and Credit", 1}};
static const ventry environment[] = {{"Classroom", 1}};

/* In vocab_id order. */
static const vtable tables[V_COUNT] = {
    T("Sex", sex), T("Race", race), T("LimitedEnglishProficiency", lep), T("GradeLevel", grade),
    T("CalendarEvent", cal_event), T("CalendarType", cal_type), T("Term", term), T("AcademicSubject", subject),
    T("EntryType", entry_type), T("ExitWithdrawType", exit_type), T("Disability", disability),
    T("Disability", disability_ec), T("SpecialEducationSetting", setting), T("SpecialEducationSetting", setting_ec),
    T("SpecialEducationProgramService", sped_service), T("ProgramType", program_type),
    T("AttendanceEventCategory", attendance), T("Behavior", behavior), T("IncidentLocation", incident_location),
    T("Discipline", discipline), T("DisciplineIncidentParticipationCode", participation),
    T("ReporterDescription", reporter), T("StaffClassification", staff_class),
    T("ClassroomPosition", classroom_position), T("ProgramAssignment", program_assignment),
    T("SchoolCategory", school_category), T("EducationOrganizationCategory", edorg_category),
    T("LocalEducationAgencyCategory", lea_category), T("SchoolType", school_type), T("StateAbbreviation", state),
    T("AddressType", address_type), T("CourseIdentificationSystem", course_id_system),
    T("LevelOfEducation", level_of_education), T("StudentCharacteristic", characteristic),
    T("SchoolFoodServiceProgramService", food_service), T("LanguageInstructionProgramService", language_service),
    T("Language", language), T("LanguageUse", language_use), T("SectionType", section_type),
    T("EducationalEnvironment", environment),
};

struct vocab {
    arena a;
    const char **uri[V_COUNT];
    unsigned *cum[V_COUNT];   /* cumulative weights */
};

static int cmp_str(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

/* Every descriptor URI (namespace#codeValue) of the bootstrap file, sorted. */
static char **read_descriptors(const char *path, size_t *count, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read the bootstrap descriptors %s", path);
        return NULL;
    }
    char **v = NULL, *line = NULL;
    size_t n = 0, cap = 0, lcap = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, f)) > 0) {
        if (!strstr(line, "\"codeValue\"")) continue; /* only descriptors have one */
        json_object *rec = json_tokener_parse(line);
        json_object *doc = jsonx_get(rec, "document");
        const char *ns = jsonx_str(doc, "namespace"), *code = jsonx_str(doc, "codeValue");
        if (ns && code) {
            if (n == cap) {
                cap = cap ? cap * 2 : 4096;
                v = xrealloc(v, cap * sizeof *v);
            }
            size_t sz = strlen(ns) + strlen(code) + 2;
            v[n] = xmalloc(sz);
            snprintf(v[n++], sz, "%s#%s", ns, code);
        }
        json_object_put(rec);
    }
    free(line);
    fclose(f);
    qsort(v, n, sizeof *v, cmp_str);
    *count = n;
    return v;
}

vocab *vocab_load(const char *bootstrap_path, char *err, size_t errlen)
{
    size_t n = 0;
    char **known = read_descriptors(bootstrap_path, &n, err, errlen);
    if (!known) return NULL;
    vocab *v = xcalloc(1, sizeof *v);
    arena_init(&v->a, 1 << 14);
    bool ok = true;
    for (int t = 0; t < V_COUNT && ok; t++) {
        const vtable *tb = &tables[t];
        v->uri[t] = arena_alloc(&v->a, sizeof(char *) * (size_t)tb->n);
        v->cum[t] = arena_alloc(&v->a, sizeof(unsigned) * (size_t)tb->n);
        unsigned sum = 0;
        for (int i = 0; i < tb->n; i++) {
            char *uri = arena_printf(&v->a, "uri://ed-fi.org/%sDescriptor#%s", tb->kind, tb->e[i].code);
            if (!bsearch(&uri, known, n, sizeof *known, cmp_str)) {
                snprintf(err, errlen, "the descriptor %s is not in the bootstrap set %s", uri, bootstrap_path);
                ok = false;
                break;
            }
            v->uri[t][i] = uri;
            sum += tb->e[i].weight;
            v->cum[t][i] = sum;
        }
    }
    for (size_t i = 0; i < n; i++) free(known[i]);
    free(known);
    if (!ok) {
        vocab_free(v);
        return NULL;
    }
    return v;
}

void vocab_free(vocab *v)
{
    if (!v) return;
    arena_free(&v->a);
    free(v);
}

const char *vocab_uri(const vocab *v, vocab_id id, int i)
{
    if (i < 0 || i >= tables[id].n) i = 0;
    return v->uri[id][i];
}

int vocab_count(const vocab *v, vocab_id id)
{
    (void)v;
    return tables[id].n;
}

const char *vocab_pick(const vocab *v, vocab_id id, rng *r, int *pos)
{
    int n = tables[id].n;
    unsigned total = v->cum[id][n - 1];
    int i = 0;
    if (total) {
        unsigned x = rng_below(r, total);
        while (i < n - 1 && v->cum[id][i] <= x) i++;
    } else {
        i = (int)rng_below(r, (uint32_t)n);
    }
    if (pos) *pos = i;
    return v->uri[id][i];
}
