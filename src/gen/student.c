/* One generated student and everything about them: the person, district
 * demographics (StudentEducationOrganizationAssociation), the enrolment,
 * section schedule, program participation (special education, food
 * service, English learners), discipline and attendance. Every value comes
 * from the student's own random stream (seed, student number), so students
 * are independent of each other and nothing about them is kept. */
#include "gen_int.h"
#include "names.h"
#include <math.h>
#include <stdio.h>

/* Special education by grade slot: IDEA serves about 14% of students aged
 * 3-21. Preschool programs are largely special education; 18-21 year olds
 * in school are there for transition services. */
static const double sped_rate[GRADES] = {0.45, 0.45, 0.12, 0.12, 0.12, 0.12, 0.12, 0.12,
                                         0.12, 0.12, 0.12, 0.12, 0.12, 0.12, 0.12, 1.0};
/* English learners by grade slot (before the district's factor). */
static const double el_rate[GRADES] = {0.14, 0.14, 0.14, 0.14, 0.14, 0.11, 0.11, 0.11,
                                       0.08, 0.08, 0.08, 0.06, 0.06, 0.06, 0.06, 0.05};
/* Students with a discipline incident during the year, by band. */
static const double discipline_rate[NBANDS] = {0.02, 0.09, 0.07};

typedef struct student {
    char uid[24];
    const gschool *sc;
    const glea *l;
    int slot;
    int enter, leave;          /* first and last instructional day index enrolled */
    bool exited;
    int birth;
} student;

/* Whether the k-th student of a (school, grade) group is in special
 * education: a quota spread evenly over the group from a random offset, so
 * the share is the rate within one student per group (a binomial draw
 * would wander by ±2% in a small state). */
static bool in_special_education(const gen *g, const gschool *sc, int slot, int k)
{
    rng r;
    rng_seed(&r, g->o->seed, K_GROUP, (uint64_t)sc->id * GRADES + (uint64_t)slot);
    double off = rng_unit(&r), p = sped_rate[slot];
    return floor((k + 1) * p + off) > floor(k * p + off);
}

static void program_common(gen *g, const student *st, int prog)
{
    jw *w = &g->w;
    jw_begin(w, &g->doc);
    jw_date(w, "beginDate", g->day[st->enter]);
    ref_edorg(w, st->l->id);
    ref_program(g, st->l->id, prog);
    ref_student(w, st->uid);
    if (st->exited) jw_date(w, "endDate", g->day[st->leave]);
}

/* A program association's services: one, the primary one. */
static void one_service(jw *w, const char *collection, const char *descriptor_field, const char *value)
{
    jw_arr(w, collection);
    jw_obj(w, NULL);
    jw_str(w, descriptor_field, value);
    jw_bool(w, "primaryIndicator", true);
    jw_close_obj(w);
    jw_close_arr(w);
}

static void write_special_education(gen *g, const student *st, rng *r)
{
    jw *w = &g->w;
    bool early = st->slot <= 1; /* ages 3-4: early-childhood settings and categories */
    int setting = 0;
    program_common(g, st, PROG_SPED);
    jw_bool(w, "ideaEligibility", true);
    jw_date(w, "iepBeginDate", g->day[st->enter]);
    jw_date(w, "iepReviewDate", g->day[st->enter] + 182);
    jw_date(w, "iepEndDate", g->day[st->enter] + 364);
    jw_str(w, "specialEducationSettingDescriptor", vocab_pick(g->v, early ? V_SETTING_EC : V_SETTING, r, &setting));
    /* Hours outside the regular class follow the setting. */
    int hours = early ? rng_range(r, 2, 15) : setting == 0 ? rng_range(r, 1, 6) : setting == 1 ? rng_range(r, 7, 19)
                                                                   : setting == 2 ? rng_range(r, 20, 30) : 32;
    jw_dec(w, "schoolHoursPerWeek", 3250, 2);
    jw_dec(w, "specialEducationHoursPerWeek", hours * 100, 2);
    jw_arr(w, "disabilities");
    jw_obj(w, NULL);
    jw_str(w, "disabilityDescriptor", vocab_pick(g->v, early ? V_DISABILITY_EC : V_DISABILITY, r, NULL));
    jw_int(w, "orderOfDisability", 1);
    jw_close_obj(w);
    jw_close_arr(w);
    one_service(w, "specialEducationProgramServices", "specialEducationProgramServiceDescriptor", vocab_pick(g->v, V_SPED_SERVICE, r, NULL));
    jw_close_obj(w);
    emit(g, S_SPECIAL_EDUCATION);
}

static void write_food_service(gen *g, const student *st, rng *r)
{
    jw *w = &g->w;
    program_common(g, st, PROG_FOOD);
    jw_bool(w, "directCertification", rng_chance(r, 0.6));
    one_service(w, "schoolFoodServiceProgramServices", "schoolFoodServiceProgramServiceDescriptor", vocab_pick(g->v, V_FOOD_SERVICE, r, NULL));
    jw_close_obj(w);
    emit(g, S_FOOD_SERVICE);
}

static void write_language_instruction(gen *g, const student *st, rng *r)
{
    jw *w = &g->w;
    program_common(g, st, PROG_ESL);
    jw_bool(w, "englishLearnerParticipation", true);
    one_service(w, "languageInstructionProgramServices", "languageInstructionProgramServiceDescriptor", vocab_pick(g->v, V_LANGUAGE_SERVICE, r, NULL));
    jw_close_obj(w);
    emit(g, S_LANGUAGE_INSTRUCTION);
}

/* Incident n of the student, the student's part in it, and the action taken. */
static void write_discipline(gen *g, const student *st, rng *r, int n)
{
    jw *w = &g->w;
    char id[40];
    snprintf(id, sizeof id, "%s-%d", st->uid, n);
    int day = g->day[rng_range(r, st->enter, st->leave)];
    int bpos = 0;
    const char *behavior = vocab_pick(g->v, V_BEHAVIOR, r, &bpos);
    jw_begin(w, &g->doc);
    jw_str(w, "incidentIdentifier", id);
    ref_school(w, "schoolReference", st->sc->id);
    jw_date(w, "incidentDate", day);
    jw_str(w, "incidentLocationDescriptor", vocab_pick(g->v, V_INCIDENT_LOCATION, r, NULL));
    jw_str(w, "reporterDescriptionDescriptor", vocab_pick(g->v, V_REPORTER, r, NULL));
    jw_bool(w, "reportedToLawEnforcement", bpos == 2 && rng_chance(r, 0.5)); /* some state offenses */
    jw_arr(w, "behaviors");
    jw_item_str(w, "behaviorDescriptor", behavior);
    jw_close_arr(w);
    jw_close_obj(w);
    emit(g, S_DISCIPLINE_INCIDENT);

    jw_begin(w, &g->doc);
    ref_student(w, st->uid);
    jw_obj(w, "disciplineIncidentReference");
    jw_str(w, "incidentIdentifier", id);
    jw_int(w, "schoolId", st->sc->id);
    jw_close_obj(w);
    jw_str(w, "behaviorDescriptor", behavior);
    jw_arr(w, "disciplineIncidentParticipationCodes");
    jw_item_str(w, "disciplineIncidentParticipationCodeDescriptor", vocab_uri(g->v, V_PARTICIPATION, 0));
    jw_close_arr(w);
    jw_close_obj(w);
    emit(g, S_BEHAVIOR);

    int dpos = 0;
    const char *discipline = vocab_pick(g->v, V_DISCIPLINE, r, &dpos);
    int length = dpos <= 1 ? rng_range(r, 1, 5) : dpos == 5 ? 90 : 1; /* suspensions last days, expulsions months */
    jw_begin(w, &g->doc);
    jw_str(w, "disciplineActionIdentifier", id);
    jw_date(w, "disciplineDate", day);
    ref_student(w, st->uid);
    jw_arr(w, "disciplines");
    jw_item_str(w, "disciplineDescriptor", discipline);
    jw_close_arr(w);
    ref_school(w, "responsibilitySchoolReference", st->sc->id);
    jw_dec(w, "actualDisciplineActionLength", length * 100, 2);
    jw_arr(w, "studentDisciplineIncidentBehaviorAssociations");
    jw_obj(w, NULL);
    jw_obj(w, "studentDisciplineIncidentBehaviorAssociationReference");
    jw_str(w, "behaviorDescriptor", behavior);
    jw_str(w, "incidentIdentifier", id);
    jw_int(w, "schoolId", st->sc->id);
    jw_str(w, "studentUniqueId", st->uid);
    jw_close_obj(w);
    jw_close_obj(w);
    jw_close_arr(w);
    jw_close_obj(w);
    emit(g, S_DISCIPLINE_ACTION);
}

/* Daily attendance: by default only the exceptions (absences, tardies,
 * early departures) on about 5-10% of a student's days; with
 * --attendance all, every enrolled day has an event. Each student has an
 * absence propensity: most 2-9% of days, about one in seven chronically
 * absent at 12-25% (the mean is about 7.5% of days). */
static void write_attendance(gen *g, const student *st, rng *r)
{
    jw *w = &g->w;
    double rate = rng_chance(r, 0.15) ? 0.12 + 0.13 * rng_unit(r) : 0.02 + 0.07 * rng_unit(r);
    bool all = g->o->attendance == GEN_ATTENDANCE_ALL;
    for (int i = st->enter; i <= st->leave; i++) {
        int cat = ATT_IN_ATTENDANCE;
        if (rng_chance(r, rate)) vocab_pick(g->v, V_ATTENDANCE, r, &cat);
        else if (!all) continue;
        jw_begin(w, &g->doc);
        jw_str(w, "attendanceEventCategoryDescriptor", vocab_uri(g->v, V_ATTENDANCE, cat));
        jw_date(w, "eventDate", g->day[i]);
        ref_school(w, "schoolReference", st->sc->id);
        ref_session(w, st->sc->id, i < g->fall_days ? 0 : 1);
        ref_student(w, st->uid);
        if (cat == ATT_TARDY) {
            char t[16];
            snprintf(t, sizeof t, "08:%02d:00", rng_range(r, 5, 55));
            jw_str(w, "arrivalTime", t);
        } else if (cat == ATT_EARLY) {
            char t[16];
            snprintf(t, sizeof t, "%02d:%02d:00", rng_range(r, 11, 14), rng_range(r, 0, 59));
            jw_str(w, "departureTime", t);
        }
        jw_close_obj(w);
        emit(g, S_ATTENDANCE);
    }
}

static void write_sections(gen *g, const student *st, int k)
{
    jw *w = &g->w;
    for (int sem = 0; sem < SEMESTERS; sem++) {
        int from = sem == 0 ? 0 : g->fall_days, to = sem == 0 ? g->fall_days : g->ndays;
        int lo = st->enter > from ? st->enter : from, hi = st->leave < to - 1 ? st->leave : to - 1;
        if (lo > hi) continue;
        for (int c = 0; c < courses_of(st->slot); c++) {
            int s = (k + c) % st->sc->nsec[st->slot];
            jw_begin(w, &g->doc);
            jw_date(w, "beginDate", g->day[lo]);
            ref_section(w, st->sc->id, st->slot, c, s, sem);
            ref_student(w, st->uid);
            jw_date(w, "endDate", g->day[hi]);
            if (course_self_contained(st->slot)) jw_bool(w, "homeroomIndicator", true);
            jw_close_obj(w);
            emit(g, S_STUDENT_SECTION);
        }
    }
}

void write_student(gen *g, const gschool *sc, int slot, int k, long number)
{
    jw *w = &g->w;
    student st = {.sc = sc, .l = &g->leas[sc->lea], .slot = slot};
    student_uid(number, st.uid);
    rng r;
    rng_seed(&r, g->o->seed, K_STUDENT, (uint64_t)number);

    /* Age on the first day of school: 3 in preschool, 5 in kindergarten,
     * 17 in grade 12, 18-21 in transition services. */
    int age = slot == SLOT_TRANSITION ? rng_range(&r, 18, 21) : slot + 3;
    int fy, fm, fd;
    civil_from_day(g->first_day, &fy, &fm, &fd);
    int latest = day_from_civil(fy - age, fm, fd), earliest = day_from_civil(fy - age - 1, fm, fd) + 1;
    st.birth = rng_range(&r, earliest, latest);

    /* Most enrol on the first day; a few arrive later or leave early. */
    st.enter = 0;
    st.leave = g->ndays - 1;
    if (slot != SLOT_TRANSITION && g->ndays > 20 && rng_chance(&r, 0.04))
        st.enter = rng_range(&r, 5, g->ndays * 3 / 4);
    if (st.enter + 12 < g->ndays - 2 && rng_chance(&r, 0.04)) {
        st.leave = rng_range(&r, st.enter + 10, g->ndays - 2);
        st.exited = true;
    }

    int sex = 0;
    const char *sex_uri = vocab_pick(g->v, V_SEX, &r, &sex);
    bool female = sex == 0 || (sex >= 2 && rng_chance(&r, 0.5));
    bool sped = in_special_education(g, sc, slot, k);
    bool econ = rng_chance(&r, st.l->econ_rate);
    double el_p = el_rate[slot] * st.l->el_factor;
    bool el = rng_chance(&r, el_p > 0.6 ? 0.6 : el_p);
    bool monitored = !el && rng_chance(&r, 0.03);
    bool hispanic = rng_chance(&r, el ? 0.75 : 0.25);

    jw_begin(w, &g->doc);
    jw_str(w, "studentUniqueId", st.uid);
    jw_str(w, "firstName", name_first(&r, female));
    if (rng_chance(&r, 0.6)) jw_str(w, "middleName", name_first(&r, female));
    jw_str(w, "lastSurname", name_last(&r));
    jw_date(w, "birthDate", st.birth);
    jw_close_obj(w);
    emit(g, S_STUDENT);

    jw_begin(w, &g->doc);
    ref_edorg(w, st.l->id);
    ref_student(w, st.uid);
    jw_str(w, "sexDescriptor", sex_uri);
    jw_bool(w, "hispanicLatinoEthnicity", hispanic);
    jw_arr(w, "races");
    int race1 = 0, race2 = 0;
    jw_item_str(w, "raceDescriptor", vocab_pick(g->v, V_RACE, &r, &race1));
    if (rng_chance(&r, 0.04)) { /* two or more races */
        vocab_pick(g->v, V_RACE, &r, &race2);
        if (race2 != race1) jw_item_str(w, "raceDescriptor", vocab_uri(g->v, V_RACE, race2));
    }
    jw_close_arr(w);
    jw_str(w, "limitedEnglishProficiencyDescriptor",
           vocab_uri(g->v, V_LEP, el ? LEP_LIMITED : monitored ? LEP_MONITORED : LEP_NOT_LIMITED));
    if (econ) {
        jw_arr(w, "studentCharacteristics");
        jw_item_str(w, "studentCharacteristicDescriptor", vocab_uri(g->v, V_CHARACTERISTIC, 0));
        jw_close_arr(w);
    }
    if (el || monitored) {
        jw_arr(w, "languages");
        jw_obj(w, NULL);
        jw_str(w, "languageDescriptor", vocab_pick(g->v, V_LANGUAGE, &r, NULL));
        jw_arr(w, "uses");
        jw_item_str(w, "languageUseDescriptor", vocab_uri(g->v, V_LANGUAGE_USE, 0));
        jw_close_arr(w);
        jw_close_obj(w);
        jw_close_arr(w);
    }
    jw_close_obj(w);
    emit(g, S_STUDENT_EDORG);

    int exit_type = 0;
    if (st.exited) {
        bool dropout = band_of(slot) == BAND_HIGH && slot != SLOT_TRANSITION && rng_chance(&r, 0.2);
        if (dropout) exit_type = EXIT_DROPOUT;
        else vocab_pick(g->v, V_EXIT_TYPE, &r, &exit_type);
    }
    jw_begin(w, &g->doc);
    ref_student(w, st.uid);
    ref_school(w, "schoolReference", sc->id);
    jw_date(w, "entryDate", g->day[st.enter]);
    jw_str(w, "entryGradeLevelDescriptor", vocab_uri(g->v, V_GRADE, slot));
    jw_str(w, "entryTypeDescriptor",
           vocab_uri(g->v, V_ENTRY_TYPE, st.enter > 0 ? ENTRY_TRANSFER : slot <= SLOT_K ? ENTRY_NEW : ENTRY_NEXT_YEAR));
    ref_school_year(w, "schoolYearTypeReference");
    ref_calendar(w, sc->id);
    jw_bool(w, "primarySchool", true);
    if (st.exited) {
        jw_date(w, "exitWithdrawDate", g->day[st.leave]);
        jw_str(w, "exitWithdrawTypeDescriptor", vocab_uri(g->v, V_EXIT_TYPE, exit_type));
    }
    jw_close_obj(w);
    emit(g, S_STUDENT_SCHOOL);

    write_sections(g, &st, k);
    if (sped) write_special_education(g, &st, &r);
    if (econ) write_food_service(g, &st, &r);
    if (el) write_language_instruction(g, &st, &r);
    double dr = slot <= 1 ? 0 : slot == SLOT_TRANSITION ? 0.03 : discipline_rate[band_of(slot)];
    if (rng_chance(&r, dr)) {
        write_discipline(g, &st, &r, 1);
        if (rng_chance(&r, 0.2)) write_discipline(g, &st, &r, 2);
    }
    write_attendance(g, &st, &r);
}
