/* The state, its districts and schools, and what hangs off a school:
 * calendar and calendar dates, sessions, course offerings, sections and the
 * staff who teach them. Also the small shared pieces (references, ids). */
#include "gen_int.h"
#include "names.h"
#include <stdio.h>
#include <string.h>

/* ---- ids and references shared with student.c ---- */

static const char *const grade_code[GRADES] = {"P3", "P4", "K",  "01", "02", "03", "04", "05",
                                               "06", "07", "08", "09", "10", "11", "12", "TR"};
static const char *const grade_title[GRADES] = {
    "Preschool",   "Pre-Kindergarten", "Kindergarten", "Grade 1",  "Grade 2",  "Grade 3",
    "Grade 4",     "Grade 5",          "Grade 6",      "Grade 7",  "Grade 8",  "Grade 9",
    "Grade 10",    "Grade 11",         "Grade 12",     "Transition"};
static const int middle_subjects[] = {SUBJ_ELA, SUBJ_MATH, SUBJ_SCIENCE, SUBJ_SOCIAL, SUBJ_PE};
static const int high_subjects[] = {SUBJ_ELA, SUBJ_MATH, SUBJ_SCIENCE, SUBJ_SOCIAL, SUBJ_PE, SUBJ_ARTS};
static const char *const subject_code[] = {"ELA", "MATH", "SCI", "SOC", "PE", "ART", "TRN", "SC"};
static const char *const subject_title[] = {"English Language Arts", "Mathematics", "Science", "Social Studies",
                                            "Physical Education", "Fine Arts", "Transition Services",
                                            "Self-Contained"};

bool course_self_contained(int slot) { return band_of(slot) == BAND_ELEMENTARY || slot == SLOT_TRANSITION; }

int courses_of(int slot)
{
    if (course_self_contained(slot)) return 1;
    return band_of(slot) == BAND_MIDDLE ? 5 : 6;
}

int course_subject(int slot, int c)
{
    if (slot == SLOT_TRANSITION) return SUBJ_CTE;
    if (band_of(slot) == BAND_ELEMENTARY) return SUBJ_CROSS;
    return band_of(slot) == BAND_MIDDLE ? middle_subjects[c] : high_subjects[c];
}

void course_code(int slot, int c, char *out, size_t n)
{
    snprintf(out, n, "%s-%s", subject_code[course_subject(slot, c)], grade_code[slot]);
}

static void course_title(int slot, int c, char *out, size_t n)
{
    if (slot == SLOT_TRANSITION) snprintf(out, n, "Transition Services (ages 18-21)");
    else snprintf(out, n, "%s %s", grade_title[slot], subject_title[course_subject(slot, c)]);
}

const char *session_name(int sem) { return sem == 0 ? "2025-2026 Fall Semester" : "2025-2026 Spring Semester"; }

void section_identifier(int slot, int c, int s, int sem, char *out, size_t n)
{
    char code[32];
    course_code(slot, c, code, sizeof code);
    snprintf(out, n, "%s-%c%02d", code, sem == 0 ? 'F' : 'S', s + 1);
}

void student_uid(long number, char out[24]) { snprintf(out, 24, "%ld", STUDENT_ID_BASE + number); }
void staff_uid(long number, char out[24]) { snprintf(out, 24, "%ld", STAFF_ID_BASE + number); }

const char *program_name(int prog)
{
    return prog == PROG_SPED ? "Special Education" : prog == PROG_FOOD ? "School Food Service" : "English Learner Program";
}

void ref_school(jw *w, const char *key, int school_id)
{
    jw_obj(w, key);
    jw_int(w, "schoolId", school_id);
    jw_close_obj(w);
}

void ref_edorg(jw *w, int edorg_id)
{
    jw_obj(w, "educationOrganizationReference");
    jw_int(w, "educationOrganizationId", edorg_id);
    jw_close_obj(w);
}

void ref_student(jw *w, const char *uid)
{
    jw_obj(w, "studentReference");
    jw_str(w, "studentUniqueId", uid);
    jw_close_obj(w);
}

void ref_staff(jw *w, const char *uid)
{
    jw_obj(w, "staffReference");
    jw_str(w, "staffUniqueId", uid);
    jw_close_obj(w);
}

void ref_school_year(jw *w, const char *key)
{
    jw_obj(w, key);
    jw_int(w, "schoolYear", GEN_SCHOOL_YEAR);
    jw_close_obj(w);
}

void ref_session(jw *w, int school_id, int sem)
{
    jw_obj(w, "sessionReference");
    jw_int(w, "schoolId", school_id);
    jw_int(w, "schoolYear", GEN_SCHOOL_YEAR);
    jw_str(w, "sessionName", session_name(sem));
    jw_close_obj(w);
}

void ref_section(jw *w, int school_id, int slot, int c, int s, int sem)
{
    char code[32], id[48];
    course_code(slot, c, code, sizeof code);
    section_identifier(slot, c, s, sem, id, sizeof id);
    jw_obj(w, "sectionReference");
    jw_str(w, "localCourseCode", code);
    jw_int(w, "schoolId", school_id);
    jw_int(w, "schoolYear", GEN_SCHOOL_YEAR);
    jw_str(w, "sectionIdentifier", id);
    jw_str(w, "sessionName", session_name(sem));
    jw_close_obj(w);
}

void ref_program(gen *g, int lea_id, int prog)
{
    jw *w = &g->w;
    jw_obj(w, "programReference");
    jw_int(w, "educationOrganizationId", lea_id);
    jw_str(w, "programName", program_name(prog));
    jw_str(w, "programTypeDescriptor", vocab_uri(g->v, V_PROGRAM_TYPE, prog));
    jw_close_obj(w);
}

static void calendar_code(int school_id, char *out, size_t n) { snprintf(out, n, "%d-%d", school_id, GEN_SCHOOL_YEAR); }

void ref_calendar(jw *w, int school_id)
{
    char code[32];
    calendar_code(school_id, code, sizeof code);
    jw_obj(w, "calendarReference");
    jw_str(w, "calendarCode", code);
    jw_int(w, "schoolId", school_id);
    jw_int(w, "schoolYear", GEN_SCHOOL_YEAR);
    jw_close_obj(w);
}

/* ---- education organizations ---- */

static void address(gen *g, rng *r, const char *city)
{
    jw *w = &g->w;
    char street[80], zip[8];
    name_street(r, street, sizeof street);
    snprintf(zip, sizeof zip, "7%04d", rng_range(r, 5000, 9999));
    jw_arr(w, "addresses");
    jw_obj(w, NULL);
    jw_str(w, "addressTypeDescriptor", vocab_uri(g->v, V_ADDRESS_TYPE, 0));
    jw_str(w, "streetNumberName", street);
    jw_str(w, "city", city);
    jw_str(w, "stateAbbreviationDescriptor", vocab_uri(g->v, V_STATE, 0));
    jw_str(w, "postalCode", zip);
    jw_close_obj(w);
    jw_close_arr(w);
}

void write_state(gen *g)
{
    jw *w = &g->w;
    rng r;
    rng_seed(&r, g->o->seed, K_STATE, 1);
    jw_begin(w, &g->doc);
    jw_int(w, "stateEducationAgencyId", SEA_ID);
    jw_str(w, "nameOfInstitution", g->state_name);
    jw_arr(w, "categories");
    jw_item_str(w, "educationOrganizationCategoryDescriptor", vocab_uri(g->v, V_EDORG_CATEGORY, EDORGCAT_SEA));
    jw_close_arr(w);
    address(g, &r, "Capital City");
    jw_close_obj(w);
    emit(g, S_SEA);
}

/* A staff member: person, assignment to edorg, and (for a school) the
 * staff-school association. */
static void write_staff(gen *g, long number, int edorg, bool school, int classification)
{
    jw *w = &g->w;
    rng r;
    rng_seed(&r, g->o->seed, K_STAFF, (uint64_t)number);
    char uid[24];
    staff_uid(number, uid);
    bool female = rng_chance(&r, 0.72); /* most US teachers are women */
    int age = rng_range(&r, 24, 64);
    int birth = day_from_civil(2025 - age, 1, 1) + rng_range(&r, 0, 364);
    int experience = age - 23 > 0 ? rng_range(&r, 0, age - 23) : 0;
    jw_begin(w, &g->doc);
    jw_str(w, "staffUniqueId", uid);
    jw_str(w, "firstName", name_first(&r, female));
    jw_str(w, "lastSurname", name_last(&r));
    jw_date(w, "birthDate", birth);
    jw_str(w, "sexDescriptor", vocab_uri(g->v, V_SEX, female ? 0 : 1));
    jw_str(w, "highestCompletedLevelOfEducationDescriptor", vocab_pick(g->v, V_LEVEL_OF_EDUCATION, &r, NULL));
    jw_bool(w, "hispanicLatinoEthnicity", rng_chance(&r, 0.1));
    jw_arr(w, "races");
    jw_item_str(w, "raceDescriptor", vocab_pick(g->v, V_RACE, &r, NULL));
    jw_close_arr(w);
    jw_dec(w, "yearsOfPriorTeachingExperience", experience * 100, 2);
    jw_close_obj(w);
    emit(g, S_STAFF);

    /* Hired on some August before this school year. */
    int hired = day_from_civil(2025 - (experience < 10 ? experience : rng_range(&r, 0, 10)), 8, 1);
    static const char *const title[] = {"Elementary Teacher", "Secondary Teacher", "Principal", "Superintendent"};
    jw_begin(w, &g->doc);
    jw_date(w, "beginDate", hired);
    ref_edorg(w, edorg);
    jw_str(w, "staffClassificationDescriptor", vocab_uri(g->v, V_STAFF_CLASS, classification));
    ref_staff(w, uid);
    jw_str(w, "positionTitle", title[classification]);
    jw_dec(w, "fullTimeEquivalency", 10000, 4);
    jw_int(w, "orderOfAssignment", 1);
    jw_close_obj(w);
    emit(g, S_STAFF_ASSIGNMENT);

    if (!school) return;
    jw_begin(w, &g->doc);
    jw_str(w, "programAssignmentDescriptor", vocab_uri(g->v, V_PROGRAM_ASSIGNMENT, ASSIGN_REGULAR));
    ref_school(w, "schoolReference", edorg);
    ref_staff(w, uid);
    ref_school_year(w, "schoolYearTypeReference");
    ref_calendar(w, edorg);
    jw_close_obj(w);
    emit(g, S_STAFF_SCHOOL);
}

static void write_program(gen *g, const glea *l, int prog)
{
    jw *w = &g->w;
    jw_begin(w, &g->doc);
    ref_edorg(w, l->id);
    jw_str(w, "programName", program_name(prog));
    jw_str(w, "programTypeDescriptor", vocab_uri(g->v, V_PROGRAM_TYPE, prog));
    char pid[24];
    snprintf(pid, sizeof pid, "%d-%d", l->id, prog + 1);
    jw_str(w, "programId", pid);
    jw_close_obj(w);
    emit(g, S_PROGRAM);
}

static void write_course(gen *g, const glea *l, int slot, int c)
{
    jw *w = &g->w;
    char code[32], title[80];
    course_code(slot, c, code, sizeof code);
    course_title(slot, c, title, sizeof title);
    jw_begin(w, &g->doc);
    jw_str(w, "courseCode", code);
    jw_str(w, "courseTitle", title);
    ref_edorg(w, l->id);
    jw_int(w, "numberOfParts", 1);
    jw_arr(w, "identificationCodes");
    jw_obj(w, NULL);
    jw_str(w, "courseIdentificationSystemDescriptor", vocab_uri(g->v, V_COURSE_ID_SYSTEM, 0));
    jw_str(w, "identificationCode", code);
    jw_close_obj(w);
    jw_close_arr(w);
    jw_arr(w, "academicSubjects");
    jw_item_str(w, "academicSubjectDescriptor", vocab_uri(g->v, V_SUBJECT, course_subject(slot, c)));
    jw_close_arr(w);
    jw_arr(w, "offeredGradeLevels");
    jw_item_str(w, "gradeLevelDescriptor", vocab_uri(g->v, V_GRADE, slot));
    jw_close_arr(w);
    jw_close_obj(w);
    emit(g, S_COURSE);
}

void write_lea(gen *g, int i)
{
    const glea *l = &g->leas[i];
    jw *w = &g->w;
    rng r;
    rng_seed(&r, g->o->seed, K_LEA, (uint64_t)i | SECOND_STREAM);
    jw_begin(w, &g->doc);
    jw_int(w, "localEducationAgencyId", l->id);
    jw_str(w, "nameOfInstitution", l->name);
    jw_arr(w, "categories");
    jw_item_str(w, "educationOrganizationCategoryDescriptor", vocab_uri(g->v, V_EDORG_CATEGORY, EDORGCAT_LEA));
    jw_close_arr(w);
    jw_str(w, "localEducationAgencyCategoryDescriptor", vocab_pick(g->v, V_LEA_CATEGORY, &r, NULL));
    jw_obj(w, "stateEducationAgencyReference");
    jw_int(w, "stateEducationAgencyId", SEA_ID);
    jw_close_obj(w);
    address(g, &r, l->town);
    jw_close_obj(w);
    emit(g, S_LEA);
    for (int p = PROG_SPED; p <= PROG_ESL; p++) write_program(g, l, p);
    for (int s = 0; s < GRADES; s++)
        for (int c = 0; c < courses_of(s); c++) write_course(g, l, s, c);
    write_staff(g, g->next_staff++, l->id, false, STAFF_SUPERINTENDENT);
}

/* ---- a school and its calendar, sessions, offerings, sections, staff ---- */

static void write_calendar(gen *g, const gschool *sc)
{
    jw *w = &g->w;
    char code[32];
    calendar_code(sc->id, code, sizeof code);
    jw_begin(w, &g->doc);
    jw_str(w, "calendarCode", code);
    ref_school(w, "schoolReference", sc->id);
    ref_school_year(w, "schoolYearTypeReference");
    jw_str(w, "calendarTypeDescriptor", vocab_uri(g->v, V_CAL_TYPE, 0));
    jw_close_obj(w);
    emit(g, S_CALENDAR);
    /* Every weekday from the first to the last instructional day: an
     * instructional day or a holiday. */
    for (int d = g->first_day; d <= g->last_day; d++) {
        if (day_of_week(d) >= 5) continue;
        jw_begin(w, &g->doc);
        ref_calendar(w, sc->id);
        jw_date(w, "date", d);
        jw_arr(w, "calendarEvents");
        jw_item_str(w, "calendarEventDescriptor",
                    vocab_uri(g->v, V_CAL_EVENT, plan_is_holiday(d) ? CAL_HOLIDAY : CAL_INSTRUCTIONAL));
        jw_close_arr(w);
        jw_close_obj(w);
        emit(g, S_CALENDAR_DATE);
    }
}

static void write_sessions(gen *g, const gschool *sc)
{
    jw *w = &g->w;
    for (int sem = 0; sem < SEMESTERS; sem++) {
        int from = sem == 0 ? 0 : g->fall_days, to = sem == 0 ? g->fall_days : g->ndays;
        jw_begin(w, &g->doc);
        jw_str(w, "sessionName", session_name(sem));
        ref_school(w, "schoolReference", sc->id);
        ref_school_year(w, "schoolYearTypeReference");
        jw_date(w, "beginDate", g->day[from]);
        jw_date(w, "endDate", g->day[to - 1]);
        jw_str(w, "termDescriptor", vocab_uri(g->v, V_TERM, sem == 0 ? TERM_FALL : TERM_SPRING));
        jw_int(w, "totalInstructionalDays", to - from);
        jw_close_obj(w);
        emit(g, S_SESSION);
    }
}

static void write_offering(gen *g, const gschool *sc, int slot, int c, int sem)
{
    jw *w = &g->w;
    char code[32], title[80];
    course_code(slot, c, code, sizeof code);
    course_title(slot, c, title, sizeof title);
    jw_begin(w, &g->doc);
    jw_str(w, "localCourseCode", code);
    jw_obj(w, "courseReference");
    jw_str(w, "courseCode", code);
    jw_int(w, "educationOrganizationId", g->leas[sc->lea].id);
    jw_close_obj(w);
    ref_school(w, "schoolReference", sc->id);
    ref_session(w, sc->id, sem);
    jw_str(w, "localCourseTitle", title);
    jw_close_obj(w);
    emit(g, S_COURSE_OFFERING);
}

static void write_section(gen *g, const gschool *sc, int slot, int c, int s, int sem, const char *teacher)
{
    jw *w = &g->w;
    char code[32], id[48], title[80], name[100];
    course_code(slot, c, code, sizeof code);
    section_identifier(slot, c, s, sem, id, sizeof id);
    course_title(slot, c, title, sizeof title);
    snprintf(name, sizeof name, "%s (%02d)", title, s + 1);
    jw_begin(w, &g->doc);
    jw_str(w, "sectionIdentifier", id);
    jw_obj(w, "courseOfferingReference");
    jw_str(w, "localCourseCode", code);
    jw_int(w, "schoolId", sc->id);
    jw_int(w, "schoolYear", GEN_SCHOOL_YEAR);
    jw_str(w, "sessionName", session_name(sem));
    jw_close_obj(w);
    jw_str(w, "sectionName", name);
    jw_str(w, "sectionTypeDescriptor", vocab_uri(g->v, V_SECTION_TYPE, 0));
    jw_str(w, "educationalEnvironmentDescriptor", vocab_uri(g->v, V_ENVIRONMENT, 0));
    if (band_of(slot) == BAND_HIGH && slot != SLOT_TRANSITION) jw_dec(w, "availableCredits", 500, 3);
    jw_close_obj(w);
    emit(g, S_SECTION);

    int from = sem == 0 ? 0 : g->fall_days, to = sem == 0 ? g->fall_days : g->ndays;
    jw_begin(w, &g->doc);
    jw_date(w, "beginDate", g->day[from]);
    jw_str(w, "classroomPositionDescriptor", vocab_uri(g->v, V_CLASSROOM_POSITION, 0));
    ref_section(w, sc->id, slot, c, s, sem);
    ref_staff(w, teacher);
    jw_date(w, "endDate", g->day[to - 1]);
    jw_close_obj(w);
    emit(g, S_STAFF_SECTION);
}

void write_school(gen *g, int i)
{
    const gschool *sc = &g->schools[i];
    const glea *l = &g->leas[sc->lea];
    jw *w = &g->w;
    rng r;
    rng_seed(&r, g->o->seed, K_SCHOOL, (uint64_t)sc->id | SECOND_STREAM);
    jw_begin(w, &g->doc);
    jw_int(w, "schoolId", sc->id);
    jw_str(w, "nameOfInstitution", sc->name);
    jw_arr(w, "educationOrganizationCategories");
    jw_item_str(w, "educationOrganizationCategoryDescriptor", vocab_uri(g->v, V_EDORG_CATEGORY, EDORGCAT_SCHOOL));
    jw_close_arr(w);
    jw_arr(w, "gradeLevels");
    for (int s = 0; s < GRADES; s++)
        if (band_of(s) == sc->band) jw_item_str(w, "gradeLevelDescriptor", vocab_uri(g->v, V_GRADE, s));
    jw_close_arr(w);
    jw_obj(w, "localEducationAgencyReference");
    jw_int(w, "localEducationAgencyId", l->id);
    jw_close_obj(w);
    jw_arr(w, "schoolCategories");
    jw_item_str(w, "schoolCategoryDescriptor", vocab_uri(g->v, V_SCHOOL_CATEGORY, sc->band));
    jw_close_arr(w);
    jw_str(w, "schoolTypeDescriptor", vocab_uri(g->v, V_SCHOOL_TYPE, 0));
    address(g, &r, l->town);
    jw_close_obj(w);
    emit(g, S_SCHOOL);

    write_calendar(g, sc);
    write_sessions(g, sc);
    write_staff(g, g->next_staff++, sc->id, true, STAFF_PRINCIPAL);

    /* Teachers: a self-contained class (elementary, transition) has its
     * own teacher; departmentalized sections are taught five per teacher.
     * The same teacher keeps a section's place in both semesters. */
    char teacher[24] = "";
    int load = 5;
    for (int slot = 0; slot < GRADES; slot++) {
        if (band_of(slot) != sc->band || !sc->count[slot]) continue;
        for (int c = 0; c < courses_of(slot); c++) {
            for (int sem = 0; sem < SEMESTERS; sem++) write_offering(g, sc, slot, c, sem);
            for (int s = 0; s < sc->nsec[slot]; s++) {
                if (course_self_contained(slot) || load >= 5) {
                    long t = g->next_staff++;
                    write_staff(g, t, sc->id, true,
                                band_of(slot) == BAND_ELEMENTARY ? STAFF_ELEMENTARY : STAFF_SECONDARY);
                    staff_uid(t, teacher);
                    load = course_self_contained(slot) ? 5 : 0;
                }
                if (load < 5) load++;
                for (int sem = 0; sem < SEMESTERS; sem++) write_section(g, sc, slot, c, s, sem, teacher);
            }
        }
    }
}
