/* Resource load order computed from the model's references (api-behavior
 * §2.2): Kahn layering, cycles broken on optional references, then the
 * person-authorization pass that updates students/staffs/contacts after
 * their associations exist. */
#include "model.h"
#include "../base/arena.h"
#include "../base/buf.h"
#include "../base/jsonx.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct edge { int from, to; bool required; bool live; } edge;
typedef struct entry { const char *path; int order; bool update_only, create_only; } entry;

static bool top_required(const mresource *r, const mpath *p)
{
    if (p->nseg < 1 || p->seg[0].array) return false;
    const snode *s = r->schema;
    for (int i = 0; i < s->nprops; i++)
        if (!strcmp(s->prop_names[i], p->seg[0].name)) return s->required[i];
    return false;
}

static void add_edge(edge **e, int *n, int *cap, int from, int to, bool req)
{
    if (from == to) return;
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 1024;
        *e = xrealloc(*e, sizeof(edge) * (size_t)*cap);
    }
    (*e)[(*n)++] = (edge){from, to, req, true};
}

static int entry_cmp(const void *x, const void *y)
{
    const entry *a = x, *b = y;
    if (a->order != b->order) return a->order - b->order;
    return strcmp(a->path, b->path);
}

static int order_of(const entry *es, int n, const char *path)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(es[i].path, path) && !es[i].update_only) return es[i].order;
    return -1;
}

/* One edge target -> referencing resource per model reference (descriptor
 * references included; abstract targets expand to their subclasses). */
static edge *build_edges(const model *m, int *count)
{
    int nv = m->nres;
    edge *edges = NULL;
    int ne = 0, cap = 0;
    for (int i = 0; i < nv; i++) {
        const mresource *r = &m->res[i];
        for (int k = 0; k < r->nrefs; k++) {
            const mref *f = &r->refs[k];
            bool req = top_required(r, &f->object_path);
            if (f->target) add_edge(&edges, &ne, &cap, f->target->index, i, req);
            else
                for (int c = 0; c < f->target_abstract->nconcrete; c++)
                    add_edge(&edges, &ne, &cap, f->target_abstract->concrete[c]->index, i, req);
        }
        for (int k = 0; k < r->ndescs; k++) {
            const mresource *d = model_find_by_name(m, r->descs[k].project, r->descs[k].descriptor_name);
            if (d) add_edge(&edges, &ne, &cap, d->index, i, top_required(r, &r->descs[k].path));
        }
    }
    *count = ne;
    return edges;
}

char *model_dependencies_json(const model *m)
{
    int nv = m->nres;
    int ne = 0;
    edge *edges = build_edges(m, &ne);
    bool *done = xcalloc((size_t)nv, sizeof(bool));
    int *indeg = xcalloc((size_t)nv, sizeof(int));
    entry *es = xcalloc((size_t)nv + 4, sizeof(entry));
    int nes = 0, remaining = 0, order = 0;
    for (int i = 0; i < nv; i++) {
        if (m->res[i].is_school_year) done[i] = true;
        else remaining++;
    }
    bool broke = false;
    while (remaining > 0) {
        memset(indeg, 0, sizeof(int) * (size_t)nv);
        for (int e = 0; e < ne; e++)
            if (edges[e].live && !done[edges[e].from] && !done[edges[e].to]) indeg[edges[e].to]++;
        int layer_start = nes;
        for (int i = 0; i < nv; i++)
            if (!done[i] && indeg[i] == 0) es[nes++] = (entry){m->res[i].path, order + 1, false, false};
        if (nes == layer_start) {
            /* A cycle: drop the optional edges among what is left, once;
             * after that, any remaining cycle is broken arbitrarily. */
            for (int e = 0; e < ne; e++)
                if (edges[e].live && !done[edges[e].from] && !done[edges[e].to] && (!broke ? !edges[e].required : true)) {
                    edges[e].live = false;
                    if (broke) break;
                }
            broke = true;
            continue;
        }
        order++;
        for (int i = layer_start; i < nes; i++) {
            for (int v = 0; v < nv; v++)
                if (!done[v] && m->res[v].path == es[i].path) {
                    done[v] = true;
                    remaining--;
                }
        }
    }
    qsort(es, (size_t)nes, sizeof(entry), entry_cmp);
    /* Person pass: create first, update after the associations that grant
     * access to the person exist. */
    static const char *persons[3][3] = {
        {"/ed-fi/students", "/ed-fi/studentSchoolAssociations", NULL},
        {"/ed-fi/staffs", "/ed-fi/staffEducationOrganizationEmploymentAssociations",
         "/ed-fi/staffEducationOrganizationAssignmentAssociations"},
        {"/ed-fi/contacts", "/ed-fi/studentContactAssociations", "/ed-fi/studentSchoolAssociations"},
    };
    for (int p = 0; p < 3; p++) {
        int at = -1;
        for (int i = 0; i < nes; i++)
            if (!strcmp(es[i].path, persons[p][0])) at = i;
        if (at < 0) continue;
        int o1 = order_of(es, nes, persons[p][1]);
        int o2 = persons[p][2] ? order_of(es, nes, persons[p][2]) : -1;
        int o = (o1 > o2 ? o1 : o2);
        if (o < 0) continue;
        es[at].create_only = true;
        entry u = {es[at].path, o + 1, true, false};
        int pos = nes;
        for (int i = 0; i < nes; i++)
            if (es[i].order >= u.order) {
                pos = i;
                break;
            }
        memmove(&es[pos + 1], &es[pos], sizeof(entry) * (size_t)(nes - pos));
        es[pos] = u;
        nes++;
    }
    buf b;
    buf_init(&b, 0);
    buf_putc(&b, '[');
    for (int i = 0; i < nes; i++) {
        const char *ops = es[i].update_only ? "[\"Update\"]" : es[i].create_only ? "[\"Create\"]"
                                                                                 : "[\"Create\",\"Update\"]";
        buf_printf(&b, "%s{\"resource\":\"%s\",\"order\":%d,\"operations\":%s}", i ? "," : "", es[i].path,
                   es[i].order, ops);
    }
    buf_putc(&b, ']');
    free(edges);
    free(done);
    free(indeg);
    free(es);
    return buf_take(&b);
}

char *model_dependencies_graphml(const model *m)
{
    int ne = 0;
    edge *edges = build_edges(m, &ne);
    buf b;
    buf_init(&b, 0);
    buf_puts(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n"
                 "<graph id=\"EdFi Dependencies\" edgedefault=\"directed\">\n");
    for (int i = 0; i < m->nres; i++)
        if (!m->res[i].is_school_year) buf_printf(&b, "<node id=\"%s\"/>\n", m->res[i].path);
    for (int e = 0; e < ne; e++) {
        const mresource *f = &m->res[edges[e].from], *t = &m->res[edges[e].to];
        if (f->is_school_year || t->is_school_year) continue;
        buf_printf(&b, "<edge source=\"%s\" target=\"%s\"/>\n", f->path, t->path);
    }
    buf_puts(&b, "</graph>\n</graphml>\n");
    free(edges);
    return buf_take(&b);
}

/* The dependency level of each resource (index → level), from the model's
 * dependency order. */
int *model_dependency_levels(const model *m, int *nlevels)
{
    int *lv = xcalloc((size_t)m->nres, sizeof *lv);
    char *deps = model_dependencies_json(m);
    json_object *arr = json_tokener_parse(deps);
    free(deps);
    int max = 0;
    for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        const char *path = jsonx_str(e, "resource");
        int order = (int)json_object_get_int(jsonx_get(e, "order"));
        char proj[64], ep[128];
        if (!path || sscanf(path, "/%63[^/]/%127s", proj, ep) != 2) continue;
        const mresource *r = model_find(m, proj, ep);
        if (r && !lv[r->index]) lv[r->index] = order; /* the first entry: its Create */
        if (order > max) max = order;
    }
    json_object_put(arr);
    *nlevels = max;
    return lv;
}
