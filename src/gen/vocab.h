/* The descriptor values the generator uses, with their weights, checked
 * against the bootstrap set that `edhub init` loads: a value missing there
 * stops the generator before it writes anything (every record it writes must
 * load without rejection). Entries are reached by weighted pick or by their
 * position (the V_* index constants below). */
#ifndef EDHUB_GEN_VOCAB_H
#define EDHUB_GEN_VOCAB_H
#include "../base/err.h"
#include "rng.h"
#include <stddef.h>

typedef enum {
    V_SEX, V_RACE, V_LEP, V_GRADE, V_CAL_EVENT, V_CAL_TYPE, V_TERM, V_SUBJECT, V_ENTRY_TYPE, V_EXIT_TYPE,
    V_DISABILITY, V_DISABILITY_EC, V_SETTING, V_SETTING_EC, V_SPED_SERVICE, V_PROGRAM_TYPE, V_ATTENDANCE,
    V_BEHAVIOR, V_INCIDENT_LOCATION, V_DISCIPLINE, V_PARTICIPATION, V_REPORTER, V_STAFF_CLASS, V_CLASSROOM_POSITION,
    V_PROGRAM_ASSIGNMENT, V_SCHOOL_CATEGORY, V_EDORG_CATEGORY, V_LEA_CATEGORY, V_SCHOOL_TYPE, V_STATE,
    V_ADDRESS_TYPE, V_COURSE_ID_SYSTEM, V_LEVEL_OF_EDUCATION, V_CHARACTERISTIC, V_FOOD_SERVICE, V_LANGUAGE_SERVICE,
    V_LANGUAGE, V_LANGUAGE_USE, V_SECTION_TYPE, V_ENVIRONMENT, V_COUNT
} vocab_id;

/* Positions used directly (the order of the tables in vocab.c). */
enum { LEP_LIMITED, LEP_MONITORED, LEP_NOT_LIMITED };
enum { CAL_INSTRUCTIONAL, CAL_HOLIDAY };
enum { TERM_FALL, TERM_SPRING };
enum { SUBJ_ELA, SUBJ_MATH, SUBJ_SCIENCE, SUBJ_SOCIAL, SUBJ_PE, SUBJ_ARTS, SUBJ_CTE, SUBJ_CROSS };
enum { ENTRY_NEXT_YEAR, ENTRY_NEW, ENTRY_TRANSFER };
enum { EXIT_DROPOUT = 3 }; /* in V_EXIT_TYPE, weight 0: only for high-school exits */
enum { PROG_SPED, PROG_FOOD, PROG_ESL };
enum { ATT_IN_ATTENDANCE, ATT_EXCUSED, ATT_UNEXCUSED, ATT_TARDY, ATT_EARLY };
enum { STAFF_ELEMENTARY, STAFF_SECONDARY, STAFF_PRINCIPAL, STAFF_SUPERINTENDENT };
enum { ASSIGN_REGULAR, ASSIGN_SPED };
enum { SCHOOLCAT_ELEMENTARY, SCHOOLCAT_MIDDLE, SCHOOLCAT_HIGH };
enum { EDORGCAT_SEA, EDORGCAT_LEA, EDORGCAT_SCHOOL };

typedef struct vocab vocab;

/* Reads the descriptors of the bootstrap JSON-lines file and checks every
 * value of the tables; NULL with the reason in err when one is missing. */
vocab *vocab_load(const char *bootstrap_path, char *err, size_t errlen);
void vocab_free(vocab *v);
/* The URI of entry i of table id. */
const char *vocab_uri(const vocab *v, vocab_id id, int i);
/* A weighted random entry's URI (and its position, if pos is not NULL). */
const char *vocab_pick(const vocab *v, vocab_id id, rng *r, int *pos);
/* The number of entries of table id. */
int vocab_count(const vocab *v, vocab_id id);

#endif
