/* Internal to src/gen: the plan of the state (districts, schools and their
 * enrolment counts, the calendar) and the writers of each part. */
#ifndef EDHUB_GEN_INT_H
#define EDHUB_GEN_INT_H
#include "gen.h"
#include "jw.h"
#include "out.h"
#include "rng.h"
#include "vocab.h"

/* Grade slots: 0 age 3 (preschool), 1 age 4 (pre-K), 2 K, 3..14 grades
 * 1-12, 15 ages 18-21 (special-education transition services, ungraded).
 * The slot is also the position in the V_GRADE vocabulary. */
#define GRADES 16
#define SLOT_K 2
#define SLOT_TRANSITION 15
enum { BAND_ELEMENTARY, BAND_MIDDLE, BAND_HIGH, NBANDS };
static inline int band_of(int g) { return g <= 7 ? BAND_ELEMENTARY : g <= 10 ? BAND_MIDDLE : BAND_HIGH; }

/* The resources written, in the order of their streams. */
enum {
    S_SEA, S_LEA, S_SCHOOL, S_PROGRAM, S_COURSE, S_CALENDAR, S_CALENDAR_DATE, S_SESSION, S_COURSE_OFFERING,
    S_SECTION, S_STAFF, S_STAFF_ASSIGNMENT, S_STAFF_SCHOOL, S_STAFF_SECTION, S_STUDENT, S_STUDENT_EDORG,
    S_STUDENT_SCHOOL, S_STUDENT_SECTION, S_SPECIAL_EDUCATION, S_FOOD_SERVICE, S_LANGUAGE_INSTRUCTION,
    S_DISCIPLINE_INCIDENT, S_BEHAVIOR, S_DISCIPLINE_ACTION, S_ATTENDANCE, S_COUNT
};

/* Kinds of entities, each with its own random stream (rng_seed). */
enum { K_LEA = 1, K_SCHOOL, K_STAFF, K_STUDENT, K_GROUP, K_STATE };
/* Or-ed into an index for a second, independent stream of the same entity
 * (the plan draws from the first). */
#define SECOND_STREAM (1ULL << 40)

#define SEA_ID 1
#define LEA_ID_BASE 1000         /* LEA i: 1001, 1002, ...; school k of LEA L: L * 1000 + k */
#define STUDENT_ID_BASE 100000000L
#define STAFF_ID_BASE 900000000L
#define SEMESTERS 2

typedef struct glea {
    int id;
    long students;
    int first_school, nschools;
    double econ_rate;          /* share of economically disadvantaged students */
    double el_factor;          /* English learners relative to the state */
    char name[80], town[40];
} glea;

typedef struct gschool {
    int id, lea, band, nth;
    int count[GRADES];         /* students per grade slot */
    int nsec[GRADES];          /* sections per course and semester */
    char name[96];
} gschool;

typedef struct gen {
    const model *m;
    const gen_opts *o;
    vocab *v;
    gen_out *out;
    buf doc;
    jw w;
    int nleas, nschools;
    glea *leas;
    gschool *schools;
    int ndays, fall_days;      /* instructional days; the first fall_days are the fall semester */
    int day[GEN_MAX_DAYS];     /* the instructional days (days since 1970) */
    int first_day, last_day;
    long next_staff;
    long students_done;
    /* progress */
    double started, last_report;
    char state_name[96];
} gen;

/* plan.c */
void plan_build(gen *g);
void plan_free(gen *g);
bool plan_is_holiday(int day);

/* school.c: the state, districts, schools and everything that hangs off a
 * school (calendar, sessions, courses, sections, staff). */
void write_state(gen *g);
void write_lea(gen *g, int l);
void write_school(gen *g, int s);

/* student.c: one student and everything about them. */
void write_student(gen *g, const gschool *sc, int slot, int k, long number);

/* courses of a grade slot */
int courses_of(int slot);
void course_code(int slot, int c, char *out, size_t n);
int course_subject(int slot, int c);
bool course_self_contained(int slot);

/* shared pieces of documents */
static inline void emit(gen *g, int s) { out_put(g->out, s, &g->doc); }
void ref_school(jw *w, const char *key, int school_id);
void ref_edorg(jw *w, int edorg_id);
void ref_student(jw *w, const char *uid);
void ref_staff(jw *w, const char *uid);
void ref_school_year(jw *w, const char *key);
void ref_session(jw *w, int school_id, int sem);
void ref_section(jw *w, int school_id, int slot, int c, int s, int sem);
void ref_program(gen *g, int lea_id, int prog);
void ref_calendar(jw *w, int school_id);
const char *session_name(int sem);
void section_identifier(int slot, int c, int s, int sem, char *out, size_t n);
void student_uid(long number, char out[24]);
void staff_uid(long number, char out[24]);
const char *program_name(int prog);

#endif
