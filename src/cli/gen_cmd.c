/* edhub gen: options, the output folder, progress and the summary around
 * the generator library (src/gen). Its only input is the command line (no
 * files are parsed but edhub's own model and bootstrap set), so it needs no
 * fuzz target. */
#include "../gen/gen.h"
#include "cli.h"
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *usage_gen =
    "usage: edhub gen --students N --out DIR [--seed S] [--format jsonl|xml] [--days D]\n"
    "                 [--attendance exceptions|all] [--quiet] [--model FILE] [--bootstrap FILE]\n"
    "\n"
    "Writes a synthetic, internally consistent Ed-Fi DS 5.2 state for the 2025-2026 school year into DIR:\n"
    "a state education agency (id 1), about N/3000 districts (ids 1001, 1002, ...; a few large, many\n"
    "small), elementary, middle and high schools (district id * 1000 + k), calendars with D instructional\n"
    "days (default 180; weekends and holidays skipped), fall and spring sessions, courses, offerings and\n"
    "sections, staff with assignments, and N students with demographics, enrolments, schedules,\n"
    "special education (about 14%, ages 3-21), food service and English-learner programs, discipline\n"
    "and attendance. One file per resource, named so that sorted names are a dependency order:\n"
    "  edhub gen --students 10000 --out state && edhub load --data DIR state\n"
    "Only descriptor values of the bootstrap set that edhub init loads are used.\n"
    "\n"
    "  --seed S          any number (default 1): the same options give byte-identical files\n"
    "  --format F        jsonl (default; JSON lines as edhub load reads them) or xml (Ed-Fi XML interchanges)\n"
    "  --attendance A    exceptions (default): absences, tardies and early departures only, on about\n"
    "                    5-10% of each student's days; all: an event for every enrolled day\n"
    "  --quiet           no progress on stderr\n"
    "DIR is created if missing; it must be empty or hold an earlier edhub gen output (which is replaced).\n"
    "A summary (records per resource) is printed and written to DIR/gen-summary.json.\n";

/* A whole-string decimal number in [lo, hi]; false otherwise. */
static bool parse_long(const char *s, long lo, long hi, long *out)
{
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

static bool parse_seed(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-') return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

/* Makes dir ready: created if missing; else a writable directory that is
 * empty or holds an earlier gen output, whose files are removed (a run with
 * another format must not leave the old files for edhub load to find).
 * 2 after saying why when it cannot be used. */
static int prepare_dir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (mkdir(dir, 0755) != 0) {
            fprintf(stderr, "edhub: cannot create %s: %s\n", dir, strerror(errno));
            return 2;
        }
        return 0;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "edhub: %s is not a directory\n", dir);
        return 2;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        fprintf(stderr, "edhub: cannot write into %s: %s\n", dir, strerror(errno));
        return 2;
    }
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "edhub: cannot read %s: %s\n", dir, strerror(errno));
        return 2;
    }
    bool any = false, earlier = false, foreign = false;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        any = true;
        if (!strcmp(e->d_name, "gen-summary.json")) earlier = true;
        else if (!gen_is_output_name(e->d_name)) foreign = true;
    }
    if (any && (!earlier || foreign)) {
        closedir(d);
        fprintf(stderr, "edhub: %s is not empty and is not an earlier edhub gen output; choose an empty or new folder\n",
                dir);
        return 2;
    }
    rewinddir(d);
    int rc = 0;
    while ((e = readdir(d)) && !rc) {
        if (!gen_is_output_name(e->d_name)) continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) != 0) {
            fprintf(stderr, "edhub: cannot replace %s: %s\n", path, strerror(errno));
            rc = 2;
        }
    }
    closedir(d);
    return rc;
}

int cmd_gen(int argc, char **argv)
{
    const char *students = NULL, *seed = NULL, *out = NULL, *format = "jsonl", *days = "180";
    const char *attendance = "exceptions", *model_path = NULL, *bootstrap = NULL;
    bool quiet = false;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_gen, stdout);
            return 0;
        } else if (!strcmp(a, "--students")) slot = &students;
        else if (!strcmp(a, "--seed")) slot = &seed;
        else if (!strcmp(a, "--out")) slot = &out;
        else if (!strcmp(a, "--format")) slot = &format;
        else if (!strcmp(a, "--days")) slot = &days;
        else if (!strcmp(a, "--attendance")) slot = &attendance;
        else if (!strcmp(a, "--model")) slot = &model_path;
        else if (!strcmp(a, "--bootstrap")) slot = &bootstrap;
        else if (!strcmp(a, "--quiet")) quiet = true;
        else {
            fprintf(stderr, "edhub: unknown option '%s'\n\n%s", a, usage_gen);
            return 2;
        }
        if (slot && cli_option_value(argc, argv, &i, slot)) return 2;
    }
    gen_opts o = {.seed = 1, .progress = quiet ? NULL : stderr, .progress_tty = isatty(STDERR_FILENO)};
    long v;
    if (!students || !parse_long(students, 1, GEN_MAX_STUDENTS, &o.students)) {
        fprintf(stderr, "edhub: --students needs a number between 1 and %ld\n\n%s", GEN_MAX_STUDENTS, usage_gen);
        return 2;
    }
    if (!out || !*out) {
        fprintf(stderr, "edhub: --out DIR is required\n\n%s", usage_gen);
        return 2;
    }
    if (seed && !parse_seed(seed, &o.seed)) {
        fprintf(stderr, "edhub: --seed needs a non-negative whole number\n");
        return 2;
    }
    if (!parse_long(days, 2, GEN_MAX_DAYS, &v)) {
        fprintf(stderr, "edhub: --days needs a number between 2 and %d\n", GEN_MAX_DAYS);
        return 2;
    }
    o.days = (int)v;
    if (!strcmp(format, "jsonl")) o.format = GEN_JSONL;
    else if (!strcmp(format, "xml")) o.format = GEN_XML;
    else {
        fprintf(stderr, "edhub: unknown --format '%s' (jsonl or xml)\n", format);
        return 2;
    }
    if (!strcmp(attendance, "exceptions")) o.attendance = GEN_ATTENDANCE_EXCEPTIONS;
    else if (!strcmp(attendance, "all")) o.attendance = GEN_ATTENDANCE_ALL;
    else {
        fprintf(stderr, "edhub: unknown --attendance '%s' (exceptions or all)\n", attendance);
        return 2;
    }
    int rc = prepare_dir(out);
    if (rc) return rc;
    o.out_dir = out;

    char mfile[PATH_MAX], bpath[PATH_MAX], err[1024];
    const char *mp = model_path ? model_path : getenv("EDHUB_MODEL");
    if (!mp) mp = cli_data_file("model/ds-5.2/ApiSchema.json", mfile, sizeof mfile);
    o.bootstrap = bootstrap ? bootstrap : cli_data_file("samples/bootstrap/bootstrap.jsonl", bpath, sizeof bpath);
    model *m = model_load(mp, err, sizeof err);
    if (!m) {
        fprintf(stderr, "edhub: cannot load the Ed-Fi model: %s\n(pass --model FILE or set EDHUB_MODEL)\n", err);
        return 1;
    }
    gen_result res;
    err_t e = gen_run(m, &o, &res, err, sizeof err);
    if (e) {
        fprintf(stderr, "edhub: %s\n", err);
        model_free(m);
        return 1;
    }
    printf("edhub gen: %ld students, seed %llu, %d days, %s, into %s\n", o.students, (unsigned long long)o.seed, o.days,
           format, out);
    for (int i = 0; i < res.nstreams; i++)
        printf("  %-52s %10ld  %s\n", res.stream[i].resource, res.stream[i].records, res.stream[i].file);
    printf("edhub gen: %ld records, %.1f MB in %.1f s (%.0f records/s)\n", res.records, (double)res.bytes / 1e6,
           res.seconds, res.seconds > 0 ? (double)res.records / res.seconds : 0);
    model_free(m); /* after the summary: its resource names are the model's */
    return 0;
}
