/* Output files of the generator; see out.h. */
#include "out.h"
#include "../base/arena.h"
#include "../base/jsonx.h"
#include "xmlwrite.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OUT_BUF (256u << 10)

typedef struct stream {
    const mresource *r;
    char file[160];
    const char *interchange;   /* XML root without "Interchange" */
    int fd;
    char *data;
    size_t len;
    long records;
    long long bytes;
} stream;

struct gen_out {
    gen_format format;
    const model *m;
    char dir[PATH_MAX];
    int n;
    stream *s;
    bool failed;
    char why[PATH_MAX + 400];
    json_tokener *tok;   /* XML: documents are parsed back to be written by the model */
    buf scratch;
};

/* The interchange (Ed-Fi XSD) that holds each resource the generator writes. */
static const struct { const char *resource, *interchange; } interchanges[] = {
    {"StateEducationAgency", "EducationOrganization"},
    {"LocalEducationAgency", "EducationOrganization"},
    {"School", "EducationOrganization"},
    {"Course", "EducationOrganization"},
    {"Program", "EducationOrganization"},
    {"Calendar", "EducationOrgCalendar"},
    {"CalendarDate", "EducationOrgCalendar"},
    {"Session", "EducationOrgCalendar"},
    {"CourseOffering", "MasterSchedule"},
    {"Section", "MasterSchedule"},
    {"Staff", "StaffAssociation"},
    {"StaffEducationOrganizationAssignmentAssociation", "StaffAssociation"},
    {"StaffSchoolAssociation", "StaffAssociation"},
    {"StaffSectionAssociation", "StaffAssociation"},
    {"Student", "Student"},
    {"StudentEducationOrganizationAssociation", "StudentEnrollment"},
    {"StudentSchoolAssociation", "StudentEnrollment"},
    {"StudentSectionAssociation", "StudentEnrollment"},
    {"StudentSpecialEducationProgramAssociation", "StudentProgram"},
    {"StudentSchoolFoodServiceProgramAssociation", "StudentProgram"},
    {"StudentLanguageInstructionProgramAssociation", "StudentProgram"},
    {"DisciplineIncident", "StudentDiscipline"},
    {"DisciplineAction", "StudentDiscipline"},
    {"StudentDisciplineIncidentBehaviorAssociation", "StudentDiscipline"},
    {"StudentSchoolAttendanceEvent", "StudentAttendance"},
};

static const char *interchange_of(const char *resource)
{
    for (size_t i = 0; i < sizeof interchanges / sizeof interchanges[0]; i++)
        if (!strcmp(interchanges[i].resource, resource)) return interchanges[i].interchange;
    return NULL;
}

/* The dependency level of each resource (by index) in the model's load
 * order: the first (Create) entry of each. */
static int *levels_of(const model *m)
{
    int *lv = xcalloc((size_t)m->nres, sizeof *lv);
    char *deps = model_dependencies_json(m);
    json_object *arr = json_tokener_parse(deps);
    free(deps);
    for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        const char *path = jsonx_str(e, "resource");
        char proj[64], ep[128];
        if (!path || sscanf(path, "/%63[^/]/%127s", proj, ep) != 2) continue;
        const mresource *r = model_find(m, proj, ep);
        if (r && !lv[r->index]) lv[r->index] = json_object_get_int(jsonx_get(e, "order"));
    }
    json_object_put(arr);
    return lv;
}

static void fail(gen_out *o, const stream *s, int e)
{
    if (o->failed) return;
    o->failed = true;
    snprintf(o->why, sizeof o->why, "cannot write %s/%s: %s", o->dir, s->file, strerror(e));
}

static void write_all(gen_out *o, stream *s, const char *p, size_t n)
{
    while (n && !o->failed) {
        ssize_t w = write(s->fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            fail(o, s, w < 0 ? errno : EIO);
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

static void flush(gen_out *o, stream *s)
{
    write_all(o, s, s->data, s->len);
    s->len = 0;
}

static void append(gen_out *o, stream *s, const char *p, size_t n)
{
    s->bytes += (long long)n;
    if (s->len + n > OUT_BUF) {
        flush(o, s);
        if (n > OUT_BUF) { /* a record larger than the buffer goes straight out */
            write_all(o, s, p, n);
            return;
        }
    }
    memcpy(s->data + s->len, p, n);
    s->len += n;
}

static void append_str(gen_out *o, stream *s, const char *p) { append(o, s, p, strlen(p)); }

err_t out_open(const model *m, const char *dir, gen_format f, const char *const *endpoints, int n, gen_out **out,
               char *err, size_t errlen)
{
    gen_out *o = xcalloc(1, sizeof *o);
    o->format = f;
    o->m = m;
    snprintf(o->dir, sizeof o->dir, "%s", dir);
    o->s = xcalloc((size_t)n, sizeof *o->s);
    buf_init(&o->scratch, 0);
    if (f == GEN_XML) o->tok = json_tokener_new();
    *out = o;
    int *levels = levels_of(m);
    err_t e = ERR_OK;
    for (int i = 0; i < n; i++) o->s[i].fd = -1;
    o->n = n;
    for (int i = 0; i < n && !e; i++) {
        stream *s = &o->s[i];
        s->r = model_find(m, "ed-fi", endpoints[i]);
        s->interchange = s->r ? interchange_of(s->r->name) : NULL;
        if (!s->r || (f == GEN_XML && !s->interchange)) {
            snprintf(err, errlen, "the model has no resource %s that the generator can write", endpoints[i]);
            e = ERR_CONFIG;
            break;
        }
        if (f == GEN_JSONL) snprintf(s->file, sizeof s->file, "%02d-%s.jsonl", levels[s->r->index], s->r->endpoint);
        else snprintf(s->file, sizeof s->file, "%02d-%s-%s.xml", levels[s->r->index], s->interchange, s->r->endpoint);
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/%s", dir, s->file);
        s->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (s->fd < 0) {
            snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
            e = ERR_IO;
            break;
        }
        s->data = xmalloc(OUT_BUF);
        if (f == GEN_XML) {
            char head[256];
            snprintf(head, sizeof head,
                     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Interchange%s xmlns=\"http://ed-fi.org/%s\">\n",
                     s->interchange, m->project_version);
            append_str(o, s, head);
        }
    }
    free(levels);
    return e;
}

void out_put(gen_out *o, int i, const buf *doc)
{
    stream *s = &o->s[i];
    s->records++;
    if (o->format == GEN_JSONL) {
        char head[160];
        int hn = snprintf(head, sizeof head, "{\"resource\":\"%s\",\"document\":", s->r->path);
        append(o, s, head, (size_t)hn);
        append(o, s, doc->data, doc->len);
        append(o, s, "}\n", 2);
        return;
    }
    json_tokener_reset(o->tok);
    json_object *j = json_tokener_parse_ex(o->tok, doc->data, (int)doc->len);
    if (!j) { /* our own JSON: cannot happen unless the writer is broken */
        if (!o->failed) {
            o->failed = true;
            snprintf(o->why, sizeof o->why, "internal error: generated %s document is not JSON", s->r->name);
        }
        return;
    }
    buf_reset(&o->scratch);
    xmlw_record(s->r, j, &o->scratch);
    json_object_put(j);
    append(o, s, o->scratch.data, o->scratch.len);
}

bool out_failed(const gen_out *o) { return o->failed; }
long out_records(const gen_out *o, int s) { return o->s[s].records; }
const char *out_file(const gen_out *o, int s) { return o->s[s].file; }
const char *out_resource(const gen_out *o, int s) { return o->s[s].r ? o->s[s].r->path : ""; }

long out_total(const gen_out *o)
{
    long t = 0;
    for (int i = 0; i < o->n; i++) t += o->s[i].records;
    return t;
}

long long out_bytes(const gen_out *o)
{
    long long t = 0;
    for (int i = 0; i < o->n; i++) t += o->s[i].bytes;
    return t;
}

err_t out_finish(gen_out *o, char *err, size_t errlen)
{
    for (int i = 0; i < o->n; i++) {
        stream *s = &o->s[i];
        if (s->fd < 0) continue;
        if (o->format == GEN_XML) {
            char tail[128];
            snprintf(tail, sizeof tail, "</Interchange%s>\n", s->interchange);
            append_str(o, s, tail);
        }
        flush(o, s);
        if (close(s->fd) != 0) fail(o, s, errno);
        s->fd = -1;
    }
    if (o->failed) {
        snprintf(err, errlen, "%s", o->why);
        return ERR_IO;
    }
    return ERR_OK;
}

void out_free(gen_out *o)
{
    if (!o) return;
    for (int i = 0; i < o->n; i++) {
        if (o->s[i].fd >= 0) close(o->s[i].fd);
        free(o->s[i].data);
    }
    free(o->s);
    buf_free(&o->scratch);
    if (o->tok) json_tokener_free(o->tok);
    free(o);
}
