/* Profile media types and the choice of a request's profile, in the order
 * ODS/API 7.3 checks them (integration.md §3.3-3.5): the media type itself
 * (ProfileContentTypeContextMiddleware), then the client's assigned
 * profiles (EnforceAssignedProfileUsageFilter), then the resource and
 * direction (MappingContractProvider). Messages are ODS's. */
#include "profiles_int.h"
#include "../base/buf.h"
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PREFIX "application/vnd.ed-fi."
#define T_USAGE "urn:ed-fi:api:profile:invalid-profile-usage"
#define T_METHOD "urn:ed-fi:api:profile:method-usage"
#define T_INCORRECT "urn:ed-fi:api:security:data-policy:incorrect-usage"
#define D_USAGE "The request construction was invalid with respect to usage of a data policy."

profile_media_status profile_media_parse(const char *value, profile_media *out)
{
    memset(out, 0, sizeof *out);
    if (!value) return PROFILE_MEDIA_NONE;
    while (*value == ' ' || *value == '\t') value++;
    if (strncasecmp(value, PREFIX, strlen(PREFIX))) return PROFILE_MEDIA_NONE;
    const char *p = value + strlen(PREFIX);
    /* The facets end at the parameters and at the structured suffix. */
    size_t end = strcspn(p, ";,");
    while (end && (p[end - 1] == ' ' || p[end - 1] == '\t')) end--;
    const char *plus = memchr(p, '+', end);
    if (plus) end = (size_t)(plus - p);
    const char *facet[3];
    size_t flen[3];
    int n = 0;
    for (size_t i = 0, start = 0; i <= end; i++) {
        if (i < end && p[i] != '.') continue;
        if (n == 3) return PROFILE_MEDIA_BAD_FORMAT;
        facet[n] = p + start;
        flen[n++] = i - start;
        start = i + 1;
    }
    if (n != 3) return PROFILE_MEDIA_BAD_FORMAT;
    for (int i = 0; i < 3; i++)
        if (!flen[i] || flen[i] >= sizeof out->resource) return PROFILE_MEDIA_BAD_FORMAT;
    memcpy(out->resource, facet[0], flen[0]);
    memcpy(out->profile, facet[1], flen[1]);
    if (flen[2] == 8 && !strncasecmp(facet[2], "readable", 8)) out->usage = PROFILE_READ;
    else if (flen[2] == 8 && !strncasecmp(facet[2], "writable", 8)) out->usage = PROFILE_WRITE;
    else return PROFILE_MEDIA_BAD_USAGE;
    return PROFILE_MEDIA_OK;
}

int profile_media_format(char *out, size_t n, const char *resource, const char *profile, profile_usage u)
{
    int w = snprintf(out, n, PREFIX "%s.%s.%s+json", resource, profile, u == PROFILE_READ ? "readable" : "writable");
    for (size_t i = 0; i < n && out[i]; i++) out[i] = (char)tolower((unsigned char)out[i]);
    return w;
}

static const profile_ct *fail(profile_error *e, int status, const char *type, const char *title, const char *detail,
                              const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static const profile_ct *fail(profile_error *e, int status, const char *type, const char *title, const char *detail,
                              const char *fmt, ...)
{
    e->status = status;
    e->type = type;
    e->title = title;
    e->detail = detail;
    e->path[0] = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return NULL;
}

/* The profile media type among the values of an Accept header (the first
 * one that is one), or the Content-Type itself. */
static const char *find_media(const char *header, bool list)
{
    for (const char *p = header; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        if (!strncasecmp(p, PREFIX, strlen(PREFIX))) return p;
        if (!list) return NULL;
        p = strchr(p, ',');
    }
    return NULL;
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* 403: the client must name one of its profiles that covers the request. */
static const profile_ct *incorrect_usage(profile_error *e, const mresource *r, profile_usage u, const char **names,
                                         int n)
{
    qsort(names, (size_t)n, sizeof *names, cmp_names);
    buf b;
    buf_init(&b, sizeof e->message - 1);
    buf_printf(&b, "Based on profile assignments, %sthe following profile-specific content type%s is required when %s "
                   "this resource: ",
               n == 1 ? "" : "one of ", n == 1 ? "" : "s", u == PROFILE_READ ? "requesting" : "creating or updating");
    for (int i = 0; i < n; i++) {
        char mt[400];
        profile_media_format(mt, sizeof mt, r->name, names[i], u);
        buf_printf(&b, "%s'%s'", i ? ", " : "", mt);
    }
    fail(e, 403, T_INCORRECT, "Data Policy Failure Due to Incorrect Usage",
         "A data policy failure was encountered. The request was not constructed correctly for the data policy that "
         "has been applied to this resource for the caller.",
         "%s", b.data ? b.data : "");
    buf_free(&b);
    return NULL;
}

const profile_ct *profile_resolve(const profile_set *ps, const profile_request *rq, profile_error *e)
{
    memset(e, 0, sizeof *e);
    const char *m = rq->method ? rq->method : "";
    bool get = !strcmp(m, "GET");
    if (!get && strcmp(m, "POST") && strcmp(m, "PUT")) return NULL;
    profile_usage u = get ? PROFILE_READ : PROFILE_WRITE;
    const char *hname = get ? "Accept" : "Content-Type";
    const char *raw = find_media(get ? rq->accept : rq->content_type, get);
    profile_media mt;
    int pi = -1;
    if (raw) {
        profile_media_status st = profile_media_parse(raw, &mt);
        if (st == PROFILE_MEDIA_BAD_FORMAT)
            return fail(e, 400, T_USAGE, "Invalid Profile Usage", D_USAGE,
                        "The format of the profile-based '%s' header was invalid.", hname);
        if (st == PROFILE_MEDIA_BAD_USAGE)
            return fail(e, 400, T_USAGE, "Invalid Profile Usage", D_USAGE,
                        "The profile usage segment in the profile-based '%s' header was not recognized.", hname);
        if (mt.usage == PROFILE_WRITE && get)
            return fail(e, 400, T_USAGE, "Invalid Profile Usage", D_USAGE,
                        "A profile-based content type that is writable cannot be used with GET requests.");
        if (mt.usage == PROFILE_READ && !get)
            return fail(e, 400, T_USAGE, "Invalid Profile Usage", D_USAGE,
                        "A profile-based content type that is readable cannot be used with PUT or POST requests.");
        if ((pi = profile_set_find(ps, mt.profile)) < 0)
            return fail(e, get ? 406 : 415, T_USAGE, "Invalid Profile Usage", D_USAGE,
                        "The profile specified by the content type in the '%s' header is not supported by this host.",
                        hname);
        if (ps->p[pi]->problem)
            return fail(e, 406, T_USAGE, "Invalid Profile Usage", D_USAGE,
                        "The profile specified by the content type in the '%s' header is configured but invalid.", hname);
    }
    /* The assigned profiles that cover this resource in this direction. */
    const char **relevant = rq->nassigned > 0 ? xcalloc((size_t)rq->nassigned, sizeof(char *)) : NULL;
    int nrel = 0;
    const profile_ct *ct = NULL;
    for (int i = 0; i < rq->nassigned; i++) {
        int k = profile_set_find(ps, rq->assigned[i]);
        if (k < 0 || ps->p[k]->problem) {
            /* Fail closed: which resources a missing or broken profile
             * restricts is unknown, so the client gets nothing rather than
             * everything until the profile is installed or fixed. */
            fail(e, 406, T_USAGE, "Invalid Profile Usage", D_USAGE,
                 "The profile '%s' assigned to the API client is %s on this host; ask the host's administrator.",
                 rq->assigned[i], k < 0 ? "not installed" : "configured but invalid");
            goto out;
        }
        bool dup = false;
        for (int j = 0; j < nrel && k >= 0; j++) dup |= relevant[j] == ps->p[k]->name;
        if (k >= 0 && !dup && profile_lookup(ps, ps->p[k]->name, rq->r, u)) relevant[nrel++] = ps->p[k]->name;
    }
    if (nrel && !raw) {
        /* Exactly one: applied without the client naming it. */
        if (nrel == 1) ct = profile_lookup(ps, relevant[0], rq->r, u);
        else incorrect_usage(e, rq->r, u, relevant, nrel);
        goto out;
    }
    if (nrel) {
        bool assigned = false;
        for (int i = 0; i < nrel && !assigned; i++) assigned = !strcasecmp(relevant[i], mt.profile);
        if (!assigned) {
            incorrect_usage(e, rq->r, u, relevant, nrel);
            goto out;
        }
    }
    if (!raw) goto out;
    if (strcasecmp(mt.resource, rq->r->name)) {
        fail(e, 400, T_USAGE, "Invalid Profile Usage", D_USAGE,
             "The resource specified by the profile-based content type ('%s') does not match the requested resource "
             "('%s').",
             mt.resource, rq->r->name);
        goto out;
    }
    const profile_def *d = ps->p[pi];
    const pres *res = NULL;
    for (int i = 0; i < d->nres && !res; i++)
        if (d->res[i].r == rq->r) res = &d->res[i];
    if (!res) {
        fail(e, 400, T_USAGE, "Invalid Profile Usage",
             D_USAGE " The resource is not contained by the profile used by (or applied to) the request.",
             "Resource '%s' is not accessible through the '%s' profile specified by the content type.", rq->r->name,
             mt.profile);
        goto out;
    }
    if (!res->ct[u]) {
        fail(e, 405, T_METHOD, "Method Not Allowed with Profile",
             get ? "Usage of the API Profiles feature was incorrect. An attempt was made to access a resource that is "
                   "not readable using the profile."
                 : "Usage of the API Profiles feature was incorrect. An attempt was made to access a resource that is "
                   "not writable using the profile.",
             "Resource class '%s' is not %s using API profile '%s'.", rq->r->name, get ? "readable" : "writable",
             mt.profile);
        goto out;
    }
    ct = res->ct[u];
out:
    free(relevant);
    return ct;
}
