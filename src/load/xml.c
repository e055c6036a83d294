/* XML interchange loading; see xml.h. */
#include "xml.h"
#include "../base/arena.h"
#include "../base/jsonx.h"
#include "progress.h"
#include "xmlmap.h"
#include <libxml/xmlreader.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A record larger than this many XML nodes is refused (hostile input). */
#define MAX_RECORD_NODES 200000

static xmlTextReaderPtr open_reader(const char *path)
{
    /* No network, no DTD loading, no entity substitution. */
    return xmlReaderForFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_COMPACT | XML_PARSE_BIG_LINES);
}

typedef struct file_survey {
    const char *path;
    bool interchange;
    char other_version[64];  /* the Ed-Fi version of a file of another data standard */
    int *count;        /* records per resource index */
    long unknown;      /* records of elements that are no resource */
} file_survey;

typedef enum { WALK_SURVEY, WALK_IDS, WALK_LOAD, WALK_ALL } walk_mode;


typedef struct walk {
    walk_mode mode;
    const model *m;
    const load_target *k;
    file_survey *fs;
    const int *levels;
    int level;               /* WALK_LOAD: the level being loaded */
    xml_ids *ids;
    load_stats *st;
    long done;               /* records handled so far (progress) */
    FILE *out;               /* dry run: mapped records go here as JSON lines */
    progress_bar *bar;       /* WALK_LOAD: updated about once a second (may be NULL) */
} walk;


static void reject(walk *w, const char *path, long line, const char *resource, const char *msg)
{
    target_reject(w->k, path, line, resource, 400, msg);
    w->st->lines++;
}

/* Streams one document: depth-1 elements are the records. Frees rd. */
static bool walk_reader(walk *w, xmlTextReaderPtr rd, const char *path, char *err, size_t errlen)
{
    bool ok = true;
    /* Read steps into a node; Next skips a record's subtree and lands on
     * what follows, which must not be stepped over again. */
    int rc = xmlTextReaderRead(rd);
    for (; rc == 1; rc = xmlTextReaderRead(rd)) {
    again:;
        int type = xmlTextReaderNodeType(rd), depth = xmlTextReaderDepth(rd);
        if (type == XML_READER_TYPE_DOCUMENT_TYPE || type == XML_READER_TYPE_ENTITY_REFERENCE ||
            type == XML_READER_TYPE_ENTITY) {
            snprintf(err, errlen, "%s: DTDs and entities are not allowed in interchange files", path);
            ok = false;
            break;
        }
        if (type != XML_READER_TYPE_ELEMENT) continue;
        const char *name = (const char *)xmlTextReaderConstLocalName(rd);
        if (depth == 0) {
            if (strncmp(name, "Interchange", 11)) {
                snprintf(err, errlen, "%s: the root element <%s> is not an Ed-Fi interchange (Interchange...)", path, name);
                ok = false;
                break;
            }
            if (w->mode == WALK_SURVEY) {
                w->fs->interchange = true;
                /* The namespace names the data standard: http://ed-fi.org/5.2.0 */
                const char *ns = (const char *)xmlTextReaderConstNamespaceUri(rd);
                if (ns && !strncmp(ns, "http://ed-fi.org/", 17) && strcmp(ns + 17, w->m->project_version))
                    snprintf(w->fs->other_version, sizeof w->fs->other_version, "%s", ns + 17);
            }
            continue;
        }
        if (depth != 1) continue;
        const mresource *r = xmlmap_resource(w->m, name);
        xmlNode *cur = xmlTextReaderCurrentNode(rd);
        long line = cur ? xmlGetLineNo(cur) : xmlTextReaderGetParserLineNumber(rd);
        /* A bare <XReference> entry is no record: it only names an item (for ref="..."). */
        const mresource *named = NULL;
        size_t nl = strlen(name);
        if (!r && nl > 9 && !strcmp(name + nl - 9, "Reference")) {
            char base[256];
            snprintf(base, sizeof base, "%.*s", (int)(nl - 9), name);
            named = xmlmap_resource(w->m, base);
        }
        if (named) {
            if (w->mode == WALK_IDS) {
                xmlChar *id = xmlTextReaderGetAttribute(rd, (const xmlChar *)"id");
                xmlNode *node = id ? xmlTextReaderExpand(rd) : NULL;
                json_object *doc = node ? xmlmap_identity(w->m, named, node, w->ids) : NULL;
                if (doc) xml_ids_put(w->ids, (const char *)id, doc);
                json_object_put(doc);
                xmlFree(id);
            }
            if ((rc = xmlTextReaderNext(rd)) == 1) goto again;
            break;
        }
        if (w->mode == WALK_SURVEY && w->fs->other_version[0]) {
            char msg[256];
            snprintf(msg, sizeof msg,
                     "the file is Ed-Fi Data Standard %s XML; this instance serves Data Standard %s: convert it first",
                     w->fs->other_version, w->m->project_version);
            reject(w, path, line, r ? r->path : name, msg);
            if ((rc = xmlTextReaderNext(rd)) == 1) goto again;
            break;
        }
        if (w->mode == WALK_SURVEY) {
            if (r) w->fs->count[r->index]++;
            else {
                w->fs->unknown++;
                char msg[256];
                snprintf(msg, sizeof msg, "<%s> is not a resource of the Ed-Fi 5.2 model", name);
                reject(w, path, line, name, msg);
            }
            if ((rc = xmlTextReaderNext(rd)) == 1) goto again;
            break;
        }
        bool want = false;
        if (r && w->mode == WALK_IDS) {
            xmlChar *id = xmlTextReaderGetAttribute(rd, (const xmlChar *)"id");
            want = id != NULL;
            xmlFree(id);
        } else if (r) {
            want = w->mode == WALK_ALL || w->levels[r->index] == w->level;
        }
        if (!want) {
            if ((rc = xmlTextReaderNext(rd)) == 1) goto again;
            break;
        }
        xmlNode *node = xmlTextReaderExpand(rd);
        if (!node) {
            snprintf(err, errlen, "%s: line %ld: malformed XML", path, line);
            ok = false;
            break;
        }
        char merr[512];
        json_object *doc = xmlmap_record(w->m, r, node, w->ids, merr, sizeof merr);
        if (w->mode == WALK_IDS) {
            xmlChar *id = xmlGetProp(node, (const xmlChar *)"id");
            if (doc && id) xml_ids_put(w->ids, (const char *)id, doc);
            xmlFree(id);
        } else if (!doc) {
            reject(w, path, xmlGetLineNo(node), r->path, merr);
            w->done++;
        } else {
            const char *text = jsonx_text(doc);
            if (w->out)
                fprintf(w->out, "{\"resource\":\"%s\",\"document\":%s}\n", r->path, text);
            else
                target_put(w->k, r, text, strlen(text), path, xmlGetLineNo(node));
            w->st->lines++;
            w->done++;
        }
        json_object_put(doc);
        if (w->bar && !(w->done & 63) && time(NULL) != w->bar->last) progress_show(w->bar, w->done);
        if (target_stopped(w->k)) break;
        if ((rc = xmlTextReaderNext(rd)) == 1) goto again;
        break;
    }
    if (ok && rc < 0) {
        const xmlError *xe = xmlGetLastError();
        snprintf(err, errlen, "%s: malformed XML%s%s", path, xe && xe->message ? ": " : "", xe && xe->message ? xe->message : "");
        size_t l = strlen(err);
        while (l && (err[l - 1] == '\n')) err[--l] = 0;
        ok = false;
    }
    xmlFreeTextReader(rd);
    return ok;
}

static bool walk_file(walk *w, const char *path, char *err, size_t errlen)
{
    xmlTextReaderPtr rd = open_reader(path);
    if (!rd) {
        snprintf(err, errlen, "cannot open %s", path);
        return false;
    }
    return walk_reader(w, rd, path, err, errlen);
}

bool xml_map_memory(const model *m, const char *data, size_t len, long *records, char *err, size_t errlen)
{
    load_stats st = {0};
    file_survey fs = {.path = "memory", .count = xcalloc((size_t)m->nres, sizeof(int))};
    walk ids = {.mode = WALK_IDS, .m = m, .fs = &fs, .st = &st, .ids = xml_ids_new()};
    walk all = {.mode = WALK_ALL, .m = m, .fs = &fs, .st = &st, .ids = ids.ids};
    const int opts = XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_COMPACT | XML_PARSE_BIG_LINES;
    xmlTextReaderPtr rd = xmlReaderForMemory(data, (int)len, "memory.xml", NULL, opts);
    bool ok = rd && walk_reader(&ids, rd, "memory", err, errlen);
    rd = ok ? xmlReaderForMemory(data, (int)len, "memory.xml", NULL, opts) : NULL;
    ok = rd && walk_reader(&all, rd, "memory", err, errlen);
    *records = all.done;
    xml_ids_free(ids.ids);
    free(fs.count);
    return ok;
}

err_t load_xml(sink *k, const model *m, const char *const *paths, int n, FILE *progress, FILE *dry_run, load_stats *st)
{
    load_target t;
    load_target_sink(&t, k);
    return load_xml_to(&t, m, paths, n, progress, dry_run, st);
}

err_t load_xml_to(const load_target *k, const model *m, const char *const *paths, int n, FILE *progress,
                  FILE *dry_run, load_stats *st)
{
    xmlInitParser();
    int nlevels = 0;
    int *levels = model_dependency_levels(m, &nlevels);
    file_survey *fs = xcalloc((size_t)n, sizeof *fs);
    long total = 0;
    err_t result = ERR_OK;
    char err[1024];
    for (int i = 0; i < n; i++) {
        fs[i].path = paths[i];
        fs[i].count = xcalloc((size_t)m->nres, sizeof(int));
        walk w = {.mode = WALK_SURVEY, .m = m, .k = k, .fs = &fs[i], .st = st};
        /* (survey: unknown record elements are rejected here, once) */
        if (!walk_file(&w, paths[i], err, sizeof err)) {
            target_reject(k, paths[i], 0, "", 400, err);
            if (progress) fprintf(progress, "edhub: %s\n", err);
            fs[i].interchange = false;
            continue;
        }
        if (fs[i].other_version[0]) fs[i].interchange = false; /* rejected record by record above */
        for (int r = 0; r < m->nres; r++) total += fs[i].count[r];
    }
    progress_bar pb = {.out = progress, .total = total, .start = time(NULL), .st = st};
    /* level 0: what the order leaves out (school years) */
    for (int level = 0; level <= nlevels && !target_stopped(k); level++) {
        for (int i = 0; i < n && !target_stopped(k); i++) {
            if (!fs[i].interchange) continue;
            bool any = false;
            for (int r = 0; r < m->nres && !any; r++) any = fs[i].count[r] && levels[r] == level;
            if (!any) continue;
            walk idw = {.mode = WALK_IDS, .m = m, .k = k, .st = st, .ids = xml_ids_new()};
            /* ids first: ref="..." may point forward in the file */
            bool ok = walk_file(&idw, paths[i], err, sizeof err);
            walk w = {.mode = WALK_LOAD, .m = m, .k = k, .levels = levels, .level = level, .ids = idw.ids, .st = st,
                      .out = dry_run, .bar = &pb};
            if (ok) ok = walk_file(&w, paths[i], err, sizeof err);
            if (!ok) {
                target_reject(k, paths[i], 0, "", 400, err);
                result = ERR_INVALID;
            }
            pb.done += w.done;
            xml_ids_free(idw.ids);
            if (time(NULL) != pb.last) progress_show(&pb, 0);
        }
        /* A level is written before the next one refers to it. */
        target_drain(k);
    }
    progress_show(&pb, 0);
    if (progress) fputc('\n', progress);
    for (int i = 0; i < n; i++) free(fs[i].count);
    free(fs);
    free(levels);
    return result;
}
