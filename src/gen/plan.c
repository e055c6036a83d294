/* The plan of a generated state: how many districts, how many students each
 * (a few large, many small), their schools by grade band and the students
 * per school and grade, and the school calendar. Everything here is
 * O(schools), computed before any student is written. */
#include "gen_int.h"
#include "../base/arena.h"
#include "names.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Share of a district's students per grade slot (percent): small pre-K
 * programs, equal grades K-12, and a few 18-21 year olds in transition
 * services. */
static const double grade_share[GRADES] = {2.0, 2.0, 7.33, 7.33, 7.33, 7.33, 7.33, 7.33,
                                           7.33, 7.33, 7.33, 7.33, 7.33, 7.33, 7.33, 0.7};
/* Typical school sizes per band (students). */
static const int band_size[NBANDS] = {450, 650, 1100};
/* Students per section (elementary classes are smaller). */
static const int section_size[NBANDS] = {22, 25, 25};

/* Holidays of the 2025-2026 school year (not instructional; written as
 * Holiday calendar dates): Labor Day, Thanksgiving, winter break, MLK Day,
 * Presidents' Day, spring break, Memorial Day. */
static const int holidays[][3] = {
    {2025, 9, 1},  {2025, 11, 26}, {2025, 11, 27}, {2025, 11, 28}, {2025, 12, 22}, {2025, 12, 23},
    {2025, 12, 24}, {2025, 12, 25}, {2025, 12, 26}, {2025, 12, 29}, {2025, 12, 30}, {2025, 12, 31},
    {2026, 1, 1},  {2026, 1, 2},   {2026, 1, 19},  {2026, 2, 16},  {2026, 3, 16},  {2026, 3, 17},
    {2026, 3, 18}, {2026, 3, 19},  {2026, 3, 20},  {2026, 5, 25},
};

bool plan_is_holiday(int day)
{
    for (size_t i = 0; i < sizeof holidays / sizeof holidays[0]; i++)
        if (day == day_from_civil(holidays[i][0], holidays[i][1], holidays[i][2])) return true;
    return false;
}

/* Splits total into n parts proportional to w (largest remainder), so the
 * parts add up exactly. */
static void apportion(long total, const double *w, int n, long *out)
{
    double sum = 0;
    for (int i = 0; i < n; i++) sum += w[i];
    long given = 0;
    double *rem = xcalloc((size_t)n, sizeof *rem);
    for (int i = 0; i < n; i++) {
        double exact = sum > 0 ? (double)total * w[i] / sum : 0;
        out[i] = (long)floor(exact);
        rem[i] = exact - (double)out[i];
        given += out[i];
    }
    /* Hand out the rest by largest remainder; ties go to the lower index
     * (deterministic). */
    while (given < total) {
        int best = 0;
        for (int i = 1; i < n; i++)
            if (rem[i] > rem[best]) best = i;
        out[best]++;
        rem[best] = -1;
        given++;
    }
    free(rem);
}

static void build_calendar(gen *g)
{
    /* The first Monday on or after August 18, 2025. */
    int d = day_from_civil(2025, 8, 18);
    while (day_of_week(d) != 0) d++;
    g->first_day = d;
    int n = 0;
    for (; n < g->o->days; d++) {
        if (day_of_week(d) >= 5 || plan_is_holiday(d)) continue;
        g->day[n++] = d;
    }
    g->ndays = n;
    g->last_day = g->day[n - 1];
    g->fall_days = (n + 1) / 2;
}

void plan_build(gen *g)
{
    const gen_opts *o = g->o;
    build_calendar(g);
    rng r;
    rng_seed(&r, o->seed, K_STATE, 0);
    char town[40];
    name_town(&r, town, sizeof town);
    snprintf(g->state_name, sizeof g->state_name, "%s State Department of Education", town);

    /* Roughly one district per 3,000 students; sizes follow Zipf's law
     * (weight 1/rank, jittered), so a few districts are large and most
     * are small, as in real states. */
    int nleas = (int)((o->students + 1500) / 3000);
    if (nleas < 1) nleas = 1;
    g->nleas = nleas;
    g->leas = xcalloc((size_t)nleas, sizeof *g->leas);
    double *w = xcalloc((size_t)nleas, sizeof *w);
    long *n = xcalloc((size_t)nleas, sizeof *n);
    for (int i = 0; i < nleas; i++) {
        rng lr;
        rng_seed(&lr, o->seed, K_LEA, (uint64_t)i);
        w[i] = (0.75 + 0.5 * rng_unit(&lr)) / (double)(i + 1);
    }
    apportion(o->students, w, nleas, n);

    /* Schools: per district, per band, enough schools of a typical size
     * (at least one of each band), each with a jittered share of the band's
     * students of every grade. */
    int cap = 0;
    for (int i = 0; i < nleas; i++) {
        glea *l = &g->leas[i];
        rng lr;
        rng_seed(&lr, o->seed, K_LEA, (uint64_t)i);
        (void)rng_next(&lr); /* the draw that jittered the size above */
        l->id = LEA_ID_BASE + i + 1;
        l->students = n[i];
        l->econ_rate = 0.25 + 0.5 * rng_unit(&lr);
        l->el_factor = 0.3 + 1.5 * rng_unit(&lr);
        name_town(&lr, l->town, sizeof l->town);
        snprintf(l->name, sizeof l->name, "%s %s", l->town,
                 n[i] > 20000 ? "Independent School District" : "School District");
        l->first_school = g->nschools;
        long per_grade[GRADES];
        apportion(n[i], grade_share, GRADES, per_grade);
        for (int b = 0; b < NBANDS; b++) {
            long band_total = 0;
            for (int s = 0; s < GRADES; s++)
                if (band_of(s) == b) band_total += per_grade[s];
            int ns = (int)((band_total + band_size[b] / 2) / band_size[b]);
            if (ns < 1) ns = 1;
            if (ns > 300) ns = 300; /* school ids stay below LEA * 1000 + 1000 */
            double *sw = xcalloc((size_t)ns, sizeof *sw);
            long *part = xcalloc((size_t)ns, sizeof *part);
            for (int k = 0; k < ns; k++) sw[k] = 0.7 + 0.6 * rng_unit(&lr);
            if (g->nschools + ns > cap) {
                cap = (g->nschools + ns) * 2;
                g->schools = xrealloc(g->schools, sizeof *g->schools * (size_t)cap);
            }
            for (int k = 0; k < ns; k++) {
                gschool *sc = &g->schools[g->nschools + k];
                memset(sc, 0, sizeof *sc);
                sc->lea = i;
                sc->band = b;
                sc->nth = k;
                sc->id = l->id * 1000 + (g->nschools + k - l->first_school) + 1;
            }
            for (int s = 0; s < GRADES; s++) {
                if (band_of(s) != b) continue;
                apportion(per_grade[s], sw, ns, part);
                for (int k = 0; k < ns; k++) {
                    gschool *sc = &g->schools[g->nschools + k];
                    sc->count[s] = (int)part[k];
                    int size = section_size[b];
                    if (s == SLOT_TRANSITION) size = 10;
                    sc->nsec[s] = part[k] ? (int)((part[k] + size - 1) / size) : 0;
                }
            }
            static const char *const kind[NBANDS] = {"Elementary School", "Middle School", "High School"};
            for (int k = 0; k < ns; k++) {
                gschool *sc = &g->schools[g->nschools + k];
                rng sr;
                rng_seed(&sr, o->seed, K_SCHOOL, (uint64_t)sc->id);
                if (ns == 1) {
                    snprintf(sc->name, sizeof sc->name, "%s %s", l->town, kind[b]);
                } else {
                    char t[40];
                    name_town(&sr, t, sizeof t);
                    snprintf(sc->name, sizeof sc->name, "%s %s", t, kind[b]);
                }
            }
            free(sw);
            free(part);
            g->nschools += ns;
        }
        l->nschools = g->nschools - l->first_school;
    }
    free(w);
    free(n);
}

void plan_free(gen *g)
{
    free(g->leas);
    free(g->schools);
}
