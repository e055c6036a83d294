/* edhub gen: plans the state, opens the files, writes the organizations and
 * schools, then the students one by one, with progress; see gen.h. */
#include "gen.h"
#include "../base/arena.h"
#include "gen_int.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* In S_* order. */
static const char *const endpoints[S_COUNT] = {
    "stateEducationAgencies", "localEducationAgencies", "schools", "programs", "courses", "calendars",
    "calendarDates", "sessions", "courseOfferings", "sections", "staffs",
    "staffEducationOrganizationAssignmentAssociations", "staffSchoolAssociations", "staffSectionAssociations",
    "students", "studentEducationOrganizationAssociations", "studentSchoolAssociations",
    "studentSectionAssociations", "studentSpecialEducationProgramAssociations",
    "studentSchoolFoodServiceProgramAssociations", "studentLanguageInstructionProgramAssociations",
    "disciplineIncidents", "studentDisciplineIncidentBehaviorAssociations", "disciplineActions",
    "studentSchoolAttendanceEvents",
};

#define SUMMARY_FILE "gen-summary.json"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress(gen *g, bool final)
{
    FILE *f = g->o->progress;
    if (!f) return;
    double t = now(), el = t - g->started;
    /* A terminal gets one line rewritten each second; a log a line every 10 s. */
    if (!final && t - g->last_report < (g->o->progress_tty ? 1.0 : 10.0)) return;
    g->last_report = t;
    long recs = out_total(g->out);
    double rate = el > 0 ? (double)recs / el : 0;
    double frac = g->o->students ? (double)g->students_done / (double)g->o->students : 1;
    char eta[32] = "";
    if (!final && frac > 0.001) snprintf(eta, sizeof eta, ", ETA %.0fs", el / frac - el);
    fprintf(f, "%sedhub gen: %ld records, %.0f/s, %ld/%ld students (%.0f%%)%s%s", g->o->progress_tty ? "\r" : "", recs,
            rate, g->students_done, g->o->students, 100 * frac, eta, g->o->progress_tty && !final ? "   " : "\n");
    fflush(f);
}

static err_t write_summary(const gen *g, const gen_result *res, char *err, size_t errlen)
{
    buf b;
    buf_init(&b, 0);
    buf_printf(&b, "{\"students\":%ld,\"seed\":%llu,\"days\":%d,\"format\":\"%s\",\"attendance\":\"%s\",", g->o->students,
               (unsigned long long)g->o->seed, g->ndays, g->o->format == GEN_XML ? "xml" : "jsonl",
               g->o->attendance == GEN_ATTENDANCE_ALL ? "all" : "exceptions");
    buf_printf(&b, "\"schoolYear\":%d,\"localEducationAgencies\":%d,\"schools\":%d,\"records\":%ld,\"resources\":{",
               GEN_SCHOOL_YEAR, g->nleas, g->nschools, res->records);
    for (int i = 0; i < res->nstreams; i++)
        buf_printf(&b, "%s\"%s\":{\"file\":\"%s\",\"records\":%ld}", i ? "," : "", res->stream[i].resource,
                   res->stream[i].file, res->stream[i].records);
    buf_puts(&b, "}}\n");
    char path[4096];
    snprintf(path, sizeof path, "%s/" SUMMARY_FILE, g->o->out_dir);
    FILE *f = fopen(path, "w");
    bool ok = f && fwrite(b.data, 1, b.len, f) == b.len;
    if (f && fclose(f) != 0) ok = false;
    buf_free(&b);
    if (ok) return ERR_OK;
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    return ERR_IO;
}

bool gen_is_output_name(const char *name)
{
    size_t n = strlen(name);
    if (!strcmp(name, SUMMARY_FILE)) return true;
    bool numbered = n > 3 && name[0] >= '0' && name[0] <= '9' && name[1] >= '0' && name[1] <= '9' && name[2] == '-';
    return numbered && ((n > 6 && !strcmp(name + n - 6, ".jsonl")) || (n > 4 && !strcmp(name + n - 4, ".xml")));
}

err_t gen_run(const model *m, const gen_opts *o, gen_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    if (o->students < 1 || o->students > GEN_MAX_STUDENTS || o->days < 2 || o->days > GEN_MAX_DAYS) {
        snprintf(err, errlen, "students must be 1..%ld and days 2..%d", GEN_MAX_STUDENTS, GEN_MAX_DAYS);
        return ERR_CONFIG;
    }
    gen g = {.m = m, .o = o};
    err_t e = ERR_OK;
    buf_init(&g.doc, 0);
    g.v = vocab_load(o->bootstrap, err, errlen);
    if (!g.v) {
        e = ERR_CONFIG;
        goto done;
    }
    if ((e = out_open(m, o->out_dir, o->format, endpoints, S_COUNT, &g.out, err, errlen))) goto done;
    plan_build(&g);
    g.started = g.last_report = now();

    write_state(&g);
    for (int i = 0; i < g.nleas; i++) write_lea(&g, i);
    for (int i = 0; i < g.nschools && !out_failed(g.out); i++) write_school(&g, i);
    long number = 0;
    for (int i = 0; i < g.nschools && !out_failed(g.out); i++) {
        const gschool *sc = &g.schools[i];
        for (int slot = 0; slot < GRADES; slot++) {
            for (int k = 0; k < sc->count[slot]; k++) {
                write_student(&g, sc, slot, k, number++);
                g.students_done++;
                if ((g.students_done & 255) == 0) {
                    if (out_failed(g.out)) break;
                    progress(&g, false);
                }
            }
        }
    }
    progress(&g, true);
    res->nstreams = S_COUNT;
    for (int i = 0; i < S_COUNT; i++) {
        res->stream[i].resource = out_resource(g.out, i);
        snprintf(res->stream[i].file, sizeof res->stream[i].file, "%s", out_file(g.out, i));
        res->stream[i].records = out_records(g.out, i);
    }
    res->records = out_total(g.out);
    res->bytes = out_bytes(g.out);
    if ((e = out_finish(g.out, err, errlen))) goto done;
    res->seconds = now() - g.started;
    e = write_summary(&g, res, err, errlen);
done:
    out_free(g.out);
    plan_free(&g);
    vocab_free(g.v);
    buf_free(&g.doc);
    return e;
}
