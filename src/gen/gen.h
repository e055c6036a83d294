/* edhub gen: a deterministic synthetic Ed-Fi DS 5.2 state (a state education
 * agency, its districts and schools, calendars, sessions, courses, sections,
 * staff, students with demographics, enrolments, special-education, food
 * service and English-learner programs, discipline and attendance), written
 * as files `edhub load` accepts: JSON lines or Ed-Fi XML interchanges, one
 * file per resource, named so that sorted names are a dependency order.
 *
 * Deterministic: the same options give the same bytes. Streamed: students
 * are generated one at a time from (seed, student number), so memory does
 * not grow with the number of students (only with the number of schools). */
#ifndef EDHUB_GEN_H
#define EDHUB_GEN_H
#include "../base/err.h"
#include "../model/model.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef enum { GEN_JSONL, GEN_XML } gen_format;
typedef enum { GEN_ATTENDANCE_EXCEPTIONS, GEN_ATTENDANCE_ALL } gen_attendance;

#define GEN_MAX_STUDENTS 50000000L
#define GEN_MAX_DAYS 250
#define GEN_SCHOOL_YEAR 2026   /* the 2025-2026 school year */

typedef struct gen_opts {
    long students;             /* 1..GEN_MAX_STUDENTS */
    uint64_t seed;
    int days;                  /* instructional days, 2..GEN_MAX_DAYS */
    gen_format format;
    gen_attendance attendance;
    const char *out_dir;       /* must exist and be writable */
    const char *bootstrap;     /* the JSON lines `edhub init` loads: the descriptors that exist */
    FILE *progress;            /* progress lines (NULL: none) */
    bool progress_tty;         /* rewrite one line each second instead of a line every 10 s */
} gen_opts;

#define GEN_MAX_STREAMS 32

typedef struct gen_result {
    int nstreams;
    struct {
        const char *resource;  /* "/ed-fi/students" (model-owned) */
        char file[160];        /* file name inside out_dir */
        long records;
    } stream[GEN_MAX_STREAMS];
    long records;              /* all resources */
    long long bytes;           /* all files */
    double seconds;
} gen_result;

/* Writes the state into o->out_dir (also DIR/gen-summary.json, the counts).
 * ERR_CONFIG for a descriptor the bootstrap set lacks or a model without a
 * resource the generator writes, ERR_IO for a write failure; err says which. */
err_t gen_run(const model *m, const gen_opts *o, gen_result *res, char *err, size_t errlen);

/* The files gen_run writes into a directory end in these: a re-run
 * replaces them (gen_cmd.c removes stale ones). */
bool gen_is_output_name(const char *name);

#endif
