/* Profile definitions: XML (Ed-Fi-ODS-API-Profiles.xsd, integration.md
 * §3.2) parsed with libxml2, checked against the model and compiled into
 * selections. Member selection follows ODS's
 * ProfileResourceMembersFilterProvider: IncludeOnly keeps the identity and
 * the listed members (nested elements shape what they list); ExcludeOnly
 * drops the listed members whatever their own memberSelection (so
 * <Collection memberSelection="IncludeAll"/> inside it removes the
 * collection); IncludeAll keeps everything, nested elements still shaping
 * their member. ExcludeAll, which ODS leaves unimplemented, keeps only the
 * identity at the content-type level and drops a nested member entirely. */
#include "profiles_int.h"
#include "../base/buf.h"
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the set ------------------------------------------------------------------ */

profile_set *profile_set_new(const model *m)
{
    profile_set *ps = xcalloc(1, sizeof *ps);
    ps->m = m;
    arena_init(&ps->a, 1 << 16);
    ps->shapes = xcalloc((size_t)m->nres + 1, sizeof(pshape *));
    return ps;
}

void profile_set_free(profile_set *ps)
{
    if (!ps) return;
    arena_free(&ps->a);
    free(ps->shapes);
    free(ps->p);
    free(ps);
}

int profile_set_count(const profile_set *ps) { return ps->n; }
const char *profile_set_name(const profile_set *ps, int i) { return i >= 0 && i < ps->n ? ps->p[i]->name : NULL; }
const char *profile_set_problem(const profile_set *ps, int i)
{
    return i >= 0 && i < ps->n ? ps->p[i]->problem : NULL;
}

int profile_set_find(const profile_set *ps, const char *name)
{
    for (int i = 0; name && i < ps->n; i++)
        if (!strcasecmp(ps->p[i]->name, name)) return i;
    return -1;
}

const profile_ct *profile_lookup(const profile_set *ps, const char *profile, const mresource *r, profile_usage u)
{
    int i = profile_set_find(ps, profile);
    if (i < 0 || ps->p[i]->problem) return NULL;
    for (int k = 0; k < ps->p[i]->nres; k++)
        if (ps->p[i]->res[k].r == r) return ps->p[i]->res[k].ct[u];
    return NULL;
}

const char *profile_ct_profile(const profile_ct *ct) { return ct->p->name; }
const mresource *profile_ct_resource(const profile_ct *ct) { return ct->r; }
profile_usage profile_ct_usage(const profile_ct *ct) { return ct->usage; }
bool profile_ct_creatable(const profile_ct *ct) { return ct->root->creatable; }

const pshape *profile_set_shape(profile_set *ps, const mresource *r)
{
    if (!ps->shapes[r->index]) ps->shapes[r->index] = pshape_build(&ps->a, ps->m, r, NULL);
    return ps->shapes[r->index];
}

/* ---- parsing context ------------------------------------------------------------ */

typedef struct pctx {
    profile_set *ps;
    const char *source;
    profile_def *def;        /* the profile being read */
    const char *resource;    /* its resource being read, or NULL */
} pctx;

static const char *attr(xmlNode *n, const char *name)
{
    for (xmlAttr *a = n->properties; a; a = a->next)
        if (!a->ns && !strcmp((const char *)a->name, name) && a->children && a->children->content)
            return (const char *)a->children->content;
    return NULL;
}

static bool is_elem(xmlNode *n, const char *name) { return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name); }

/* Records the profile's first problem: "source:line: profile 'P', resource
 * 'R', where: message". Returns false for `return fail(...)`. */
static bool fail(pctx *c, xmlNode *n, const char *where, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static bool fail(pctx *c, xmlNode *n, const char *where, const char *fmt, ...)
{
    if (c->def->problem) return false;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    buf b;
    buf_init(&b, 4096);
    buf_printf(&b, "%s:%ld: profile '%s'", c->source, n ? xmlGetLineNo(n) : 0L, c->def->name);
    if (c->resource) buf_printf(&b, ", resource '%s'", c->resource);
    if (where && *where) buf_printf(&b, ", %s", where);
    buf_printf(&b, ": %s", msg);
    c->def->problem = arena_strdup(&c->ps->a, b.data ? b.data : msg);
    buf_free(&b);
    return false;
}

/* Only the attributes an element may carry (names in a namespace, such as
 * xsi:..., are left alone). */
static bool attrs_known(pctx *c, xmlNode *n, const char *where, const char *const *known)
{
    for (xmlAttr *a = n->properties; a; a = a->next) {
        if (a->ns) continue;
        bool ok = false;
        for (int i = 0; known[i] && !ok; i++) ok = !strcmp((const char *)a->name, known[i]);
        if (!ok) return fail(c, n, where, "<%s> has no attribute '%s'", (const char *)n->name, (const char *)a->name);
    }
    return true;
}

/* Text between elements must be blank. */
static bool blank_text(pctx *c, xmlNode *k, const char *where)
{
    if (k->type != XML_TEXT_NODE) return true;
    for (const xmlChar *p = k->content; p && *p; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') return fail(c, k->parent, where, "unexpected text");
    return true;
}

static bool selection_of(pctx *c, xmlNode *n, const char *where, psel_mode *out)
{
    const char *v = attr(n, "memberSelection");
    static const char *const names[] = {"IncludeOnly", "ExcludeOnly", "IncludeAll", "ExcludeAll"};
    for (int i = 0; v && i < 4; i++)
        if (!strcmp(v, names[i])) {
            *out = (psel_mode)i;
            return true;
        }
    if (!v) return fail(c, n, where, "<%s> needs memberSelection (IncludeOnly, ExcludeOnly, IncludeAll or ExcludeAll)",
                        (const char *)n->name);
    return fail(c, n, where, "memberSelection '%s' is not IncludeOnly, ExcludeOnly, IncludeAll or ExcludeAll", v);
}

/* "valid names: A, B, ..." for the members of s a kind of element names. */
static void member_list(const pshape *s, pkind want, char *out, size_t n)
{
    buf b;
    buf_init(&b, n > 1 ? n - 1 : 1);
    int count = 0;
    for (int i = 0; i < s->n; i++) {
        pkind k = s->m[i].kind == PK_REFERENCE ? PK_PROPERTY : s->m[i].kind;
        if (k != want) continue;
        buf_printf(&b, "%s%s", count++ ? ", " : "", s->m[i].name);
    }
    snprintf(out, n, "%s", count ? (b.failed ? "(too many to list)" : b.data) : "(none)");
    buf_free(&b);
}

/* ---- compiling a level ------------------------------------------------------- */

static psel *compile_level(pctx *c, xmlNode *def, const pshape *s, psel_mode mode, const char *where, int depth,
                           bool is_collection);

static bool compile_filter(pctx *c, xmlNode *f, const pshape *s, psel *sel, const char *where)
{
    static const char *const known[] = {"propertyName", "filterMode", NULL};
    const char *pn = attr(f, "propertyName"), *fm = attr(f, "filterMode");
    char *fw = arena_printf(&c->ps->a, "%s/Filter '%s'", where, pn ? pn : "?");
    if (!attrs_known(c, f, fw, known)) return false;
    if (!pn || !*pn) return fail(c, f, where, "<Filter> needs propertyName");
    if (!fm || (strcmp(fm, "IncludeOnly") && strcmp(fm, "ExcludeOnly")))
        return fail(c, f, fw, "filterMode must be IncludeOnly or ExcludeOnly");
    int k = pshape_find_name(s, pn);
    if (k < 0) {
        char list[1024];
        member_list(s, PK_PROPERTY, list, sizeof list);
        return fail(c, f, fw, "%s has no property '%s' (properties: %s)", s->cls, pn, list);
    }
    if (!s->m[k].descriptor)
        return fail(c, f, fw, "filters compare descriptor values, and '%s' is not a descriptor", s->m[k].name);
    pfilter *flt = &sel->filt[sel->nfilt];
    flt->member = k;
    flt->include = !strcmp(fm, "IncludeOnly");
    for (xmlNode *v = f->children; v; v = v->next) flt->nvals += is_elem(v, "Value");
    if (!flt->nvals) return fail(c, f, fw, "<Filter> needs at least one <Value>");
    flt->vals = arena_alloc(&c->ps->a, sizeof(char *) * (size_t)flt->nvals);
    int i = 0;
    for (xmlNode *v = f->children; v; v = v->next) {
        if (!blank_text(c, v, fw)) return false;
        if (v->type != XML_ELEMENT_NODE) continue;
        if (!is_elem(v, "Value")) return fail(c, v, fw, "<Filter> holds only <Value> elements, not <%s>", (const char *)v->name);
        xmlChar *t = xmlNodeGetContent(v);
        const char *b = (const char *)t, *e;
        while (b && (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n')) b++;
        e = b ? b + strlen(b) : NULL;
        while (e && e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n')) e--;
        if (!b || e == b) {
            xmlFree(t);
            return fail(c, v, fw, "empty <Value>");
        }
        flt->vals[i++] = arena_strndup(&c->ps->a, b, (size_t)(e - b));
        xmlFree(t);
    }
    sel->nfilt++;
    return true;
}

/* One <Property>/<Object>/<Collection> inside a level. */
static bool compile_member(pctx *c, xmlNode *k, const pshape *s, psel *sel, bool *seen, const char *where, int depth)
{
    static const char *const known_prop[] = {"name", NULL};
    static const char *const known_nested[] = {"name", "memberSelection", "logicalSchema", NULL};
    const char *el = (const char *)k->name, *name = attr(k, "name");
    char *kw = arena_printf(&c->ps->a, "%s%s%s '%s'", where, *where ? "/" : "", el, name ? name : "?");
    bool is_prop = !strcmp(el, "Property");
    if (!attrs_known(c, k, kw, is_prop ? known_prop : known_nested)) return false;
    if (!name || !*name) return fail(c, k, where, "<%s> needs a name", el);
    int i = pshape_find_name(s, name);
    pkind want = is_prop ? PK_PROPERTY : !strcmp(el, "Object") ? PK_OBJECT : PK_COLLECTION;
    if (i < 0) {
        char list[1024];
        member_list(s, want, list, sizeof list);
        return fail(c, k, kw, "%s has no %s named '%s' (%s names: %s)", s->cls,
                    want == PK_PROPERTY ? "property or reference" : want == PK_OBJECT ? "embedded object" : "collection",
                    name, el, list);
    }
    const pmember *pm = &s->m[i];
    pkind have = pm->kind == PK_REFERENCE ? PK_PROPERTY : pm->kind;
    if (have != want)
        return fail(c, k, kw, "'%s' is %s: name it with <%s>", name,
                    have == PK_OBJECT ? "an embedded object" : have == PK_COLLECTION ? "a collection" : "a property",
                    pkind_element(have));
    if (seen[i]) return fail(c, k, kw, "'%s' is listed twice", name);
    seen[i] = true;
    psel *sub = NULL;
    psel_mode child_mode = SEL_INCLUDE_ALL;
    if (!is_prop) {
        if (!selection_of(c, k, kw, &child_mode)) return false;
        const char *ls = attr(k, "logicalSchema");
        if (ls && strcasecmp(ls, "Ed-Fi") && strcasecmp(ls, "EdFi"))
            return fail(c, k, kw, "logicalSchema '%s' is not part of this model (Ed-Fi core only)", ls);
        if (pm->sub) {
            if (!(sub = compile_level(c, k, pm->sub, child_mode, kw, depth + 1, want == PK_COLLECTION))) return false;
        } else if (k->children && xmlFirstElementChild(k)) {
            return fail(c, k, kw, "the items of '%s' are values, not objects: nothing to select inside", name);
        }
    }
    switch (sel->mode) {
    case SEL_INCLUDE_ONLY:
    case SEL_INCLUDE_ALL:
        if (child_mode == SEL_EXCLUDE_ALL && !is_prop) {
            if (pm->identity) return fail(c, k, kw, "'%s' is part of the identity and cannot be excluded", name);
            sel->incl[i] = false;
        } else {
            sel->incl[i] = true;
            sel->sub[i] = sub;
        }
        break;
    case SEL_EXCLUDE_ONLY:
        if (pm->identity) return fail(c, k, kw, "'%s' is part of the identity and cannot be excluded", name);
        sel->incl[i] = false;
        break;
    case SEL_EXCLUDE_ALL:
        break; /* nothing but the identity, whatever is listed */
    }
    return true;
}

static psel *compile_level(pctx *c, xmlNode *def, const pshape *s, psel_mode mode, const char *where, int depth,
                           bool is_collection)
{
    arena *a = &c->ps->a;
    if (depth > PROFILES_MAX_DEPTH) {
        fail(c, def, where, "nested deeper than %d levels", PROFILES_MAX_DEPTH);
        return NULL;
    }
    psel *sel = arena_alloc(a, sizeof *sel);
    sel->shape = s;
    sel->mode = mode;
    sel->keep_unknown = mode == SEL_EXCLUDE_ONLY || mode == SEL_INCLUDE_ALL;
    sel->incl = arena_alloc(a, sizeof(bool) * (size_t)(s->n + 1));
    sel->sub = arena_alloc(a, sizeof(psel *) * (size_t)(s->n + 1));
    bool *seen = arena_alloc(a, sizeof(bool) * (size_t)(s->n + 1));
    for (int i = 0; i < s->n; i++)
        sel->incl[i] = s->m[i].identity || mode == SEL_EXCLUDE_ONLY || mode == SEL_INCLUDE_ALL;
    int nfilters = 0;
    for (xmlNode *k = def->children; k; k = k->next) nfilters += is_elem(k, "Filter");
    sel->filt = arena_alloc(a, sizeof(pfilter) * (size_t)(nfilters + 1));
    for (xmlNode *k = def->children; k; k = k->next) {
        if (!blank_text(c, k, where)) return NULL;
        if (k->type != XML_ELEMENT_NODE) continue;
        const char *el = (const char *)k->name;
        if (!strcmp(el, "Property") || !strcmp(el, "Object") || !strcmp(el, "Collection")) {
            if (!compile_member(c, k, s, sel, seen, where, depth)) return NULL;
        } else if (!strcmp(el, "Extension")) {
            const char *n = attr(k, "name");
            fail(c, k, arena_printf(a, "%s/Extension '%s'", where, n ? n : "?"),
                 "extension '%s' is not part of this model (it serves Ed-Fi core only)", n ? n : "?");
            return NULL;
        } else if (!strcmp(el, "Filter") && is_collection) {
            if (!compile_filter(c, k, s, sel, where)) return NULL;
        } else {
            fail(c, k, where, "<%s> is not allowed here", el);
            return NULL;
        }
    }
    sel->creatable = true;
    for (int i = 0; i < s->n; i++) {
        if (!s->m[i].required) continue;
        if (!sel->incl[i] || (sel->sub[i] && !sel->sub[i]->creatable)) sel->creatable = false;
    }
    return sel;
}

/* ---- documents ------------------------------------------------------------- */

static const mresource *resource_named(const model *m, const char *name, const mresource **near)
{
    *near = NULL;
    for (int i = 0; i < m->nres; i++) {
        if (!strcmp(m->res[i].name, name)) return &m->res[i];
        if (!strcasecmp(m->res[i].name, name)) *near = &m->res[i];
    }
    return NULL;
}

static void read_resource(pctx *c, xmlNode *rn, pres *out)
{
    static const char *const known[] = {"name", "logicalSchema", NULL};
    static const char *const known_ct[] = {"memberSelection", NULL};
    const char *name = attr(rn, "name"), *ls = attr(rn, "logicalSchema");
    c->resource = name;
    if (!attrs_known(c, rn, "", known)) return;
    if (!name || !*name) {
        fail(c, rn, "", "<Resource> needs a name");
        return;
    }
    if (ls && strcasecmp(ls, "Ed-Fi") && strcasecmp(ls, "EdFi")) {
        fail(c, rn, "", "logicalSchema '%s' is not part of this model (Ed-Fi core only)", ls);
        return;
    }
    const mresource *near;
    out->r = resource_named(c->ps->m, name, &near);
    if (!out->r) {
        if (near) fail(c, rn, "", "no resource '%s' in the model (did you mean '%s'?)", name, near->name);
        else fail(c, rn, "", "no resource '%s' in the model", name);
        return;
    }
    const pshape *s = profile_set_shape(c->ps, out->r);
    for (xmlNode *k = rn->children; k; k = k->next) {
        if (!blank_text(c, k, "")) return;
        if (k->type != XML_ELEMENT_NODE) continue;
        const char *el = (const char *)k->name;
        int u = !strcmp(el, "ReadContentType") ? PROFILE_READ : !strcmp(el, "WriteContentType") ? PROFILE_WRITE : -1;
        if (u < 0) {
            fail(c, k, "", "<%s> is not allowed in <Resource> (ReadContentType, WriteContentType)", el);
            return;
        }
        if (out->ct[u]) {
            fail(c, k, el, "<%s> is given twice", el);
            return;
        }
        psel_mode mode;
        if (!attrs_known(c, k, el, known_ct) || !selection_of(c, k, el, &mode)) return;
        profile_ct *ct = arena_alloc(&c->ps->a, sizeof *ct);
        ct->p = c->def;
        ct->r = out->r;
        ct->usage = (profile_usage)u;
        if (!(ct->root = compile_level(c, k, s, mode, el, 0, false))) return;
        out->ct[u] = ct;
    }
}

static void add_def(profile_set *ps, profile_def *d)
{
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? 2 * ps->cap : 8;
        ps->p = xrealloc(ps->p, sizeof(profile_def *) * (size_t)ps->cap);
    }
    ps->p[ps->n++] = d;
}

/* Reads one <Profile>; returns its problem or NULL. A duplicate name is
 * reported without adding the profile. */
static const char *read_profile(profile_set *ps, xmlNode *pn, const char *source)
{
    static const char *const known[] = {"name", NULL};
    const char *name = attr(pn, "name");
    profile_def tmp = {.name = name && *name ? name : "?"};
    pctx c = {.ps = ps, .source = source, .def = &tmp};
    if (!name || !*name) {
        fail(&c, pn, "", "<Profile> needs a name");
        return tmp.problem;
    }
    int dup = profile_set_find(ps, name);
    if (dup >= 0) {
        fail(&c, pn, "", "a profile named '%s' is already defined", ps->p[dup]->name);
        return tmp.problem;
    }
    profile_def *d = arena_alloc(&ps->a, sizeof *d);
    d->name = arena_strdup(&ps->a, name);
    c.def = d;
    int nres = 0;
    for (xmlNode *k = pn->children; k; k = k->next) nres += k->type == XML_ELEMENT_NODE;
    d->res = arena_alloc(&ps->a, sizeof(pres) * (size_t)(nres + 1));
    attrs_known(&c, pn, "", known);
    for (xmlNode *k = pn->children; k && !d->problem; k = k->next) {
        c.resource = NULL;
        if (!blank_text(&c, k, "")) break;
        if (k->type != XML_ELEMENT_NODE) continue;
        if (!is_elem(k, "Resource")) {
            fail(&c, k, "", "<%s> is not allowed in <Profile> (only <Resource>)", (const char *)k->name);
            break;
        }
        pres *r = &d->res[d->nres];
        read_resource(&c, k, r);
        if (d->problem) break;
        for (int i = 0; i < d->nres; i++)
            if (d->res[i].r == r->r) {
                fail(&c, k, "", "resource '%s' is given twice", r->r->name);
                break;
            }
        d->nres++;
    }
    c.resource = NULL;
    if (!d->problem && !d->nres) fail(&c, pn, "", "a profile needs at least one <Resource>");
    add_def(ps, d);
    return d->problem;
}

/* Refuses what no profile file has and hostile input needs: NUL bytes
 * (UTF-16/32), DTDs and entity declarations. */
static bool plain_text(const char *xml, size_t len, const char *source, char *err, size_t errlen)
{
    if (memchr(xml, 0, len)) {
        snprintf(err, errlen, "%s: not UTF-8 XML text (NUL bytes)", source);
        return false;
    }
    if (memmem(xml, len, "<!DOCTYPE", 9) || memmem(xml, len, "<!ENTITY", 8)) {
        snprintf(err, errlen, "%s: DTDs and entities are not allowed in profile definitions", source);
        return false;
    }
    return true;
}

err_t profile_set_add_memory(profile_set *ps, const char *xml, size_t len, const char *source, char *err,
                             size_t errlen)
{
    err_t rc = ERR_INVALID;
    xmlParserCtxtPtr ctxt = NULL;
    xmlDocPtr doc = NULL;
    if (!source) source = "profiles";
    if (errlen) err[0] = 0;
    if (len > PROFILES_MAX_BYTES) {
        snprintf(err, errlen, "%s: larger than %u bytes", source, PROFILES_MAX_BYTES);
        rc = ERR_TOO_LARGE;
        goto out;
    }
    if (!plain_text(xml, len, source, err, errlen)) goto out;
    if (!(ctxt = xmlNewParserCtxt())) {
        rc = ERR_NOMEM;
        goto out;
    }
    /* No network, no DTD loading, no entity substitution, errors kept in
     * ctxt instead of printed; the declared encoding is overridden. */
    int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA | XML_PARSE_BIG_LINES;
    doc = xmlCtxtReadMemory(ctxt, xml, (int)len, source, "UTF-8", opts);
    if (!doc) {
        xmlErrorPtr e = xmlCtxtGetLastError(ctxt);
        char msg[256];
        snprintf(msg, sizeof msg, "%s", e && e->message ? e->message : "not well-formed XML");
        msg[strcspn(msg, "\n")] = 0;
        snprintf(err, errlen, "%s:%d: %s", source, e ? e->line : 0, msg);
        goto out;
    }
    if (doc->intSubset || doc->extSubset) {
        snprintf(err, errlen, "%s: DTDs and entities are not allowed in profile definitions", source);
        goto out;
    }
    xmlNode *root = xmlDocGetRootElement(doc);
    if (!root || (!is_elem(root, "Profiles") && !is_elem(root, "Profile"))) {
        snprintf(err, errlen, "%s:%ld: the root element is <%s>, not <Profiles>", source, root ? xmlGetLineNo(root) : 0L,
                 root ? (const char *)root->name : "");
        goto out;
    }
    const char *first = NULL;
    if (is_elem(root, "Profile")) {
        first = read_profile(ps, root, source);
    } else {
        for (xmlAttr *a = root->properties; a; a = a->next)
            if (!a->ns) {
                snprintf(err, errlen, "%s:%ld: <Profiles> has no attribute '%s'", source, xmlGetLineNo(root),
                         (const char *)a->name);
                goto out;
            }
        int count = 0;
        for (xmlNode *k = root->children; k; k = k->next) {
            if (k->type == XML_TEXT_NODE) {
                for (const xmlChar *p = k->content; p && *p; p++)
                    if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
                        snprintf(err, errlen, "%s:%ld: unexpected text in <Profiles>", source, xmlGetLineNo(k));
                        goto out;
                    }
            }
            if (k->type != XML_ELEMENT_NODE) continue;
            if (!is_elem(k, "Profile")) {
                snprintf(err, errlen, "%s:%ld: <%s> is not allowed in <Profiles> (only <Profile>)", source,
                         xmlGetLineNo(k), (const char *)k->name);
                goto out;
            }
            count++;
        }
        if (!count) {
            snprintf(err, errlen, "%s:%ld: <Profiles> holds no <Profile>", source, xmlGetLineNo(root));
            goto out;
        }
        for (xmlNode *k = root->children; k; k = k->next) {
            if (k->type != XML_ELEMENT_NODE) continue;
            const char *p = read_profile(ps, k, source);
            if (p && !first) first = p;
        }
    }
    if (first) snprintf(err, errlen, "%s", first);
    rc = first ? ERR_INVALID : ERR_OK;
out:
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return rc;
}

err_t profile_set_add_file(profile_set *ps, const char *path, char *err, size_t errlen)
{
    err_t rc = ERR_IO;
    char *data = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open", path);
        goto out;
    }
    data = xmalloc(PROFILES_MAX_BYTES + 1);
    size_t n = fread(data, 1, PROFILES_MAX_BYTES + 1, f);
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        goto out;
    }
    /* One byte past the limit is enough to refuse the file. */
    rc = profile_set_add_memory(ps, data, n, path, err, errlen);
out:
    if (f) fclose(f);
    free(data);
    return rc;
}
