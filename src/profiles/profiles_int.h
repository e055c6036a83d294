/* Internal to src/profiles: the member tree a resource offers to profiles
 * (shape.c), compiled selections (compile.c) and the set that owns them. */
#ifndef EDHUB_PROFILES_INT_H
#define EDHUB_PROFILES_INT_H
#include "../base/arena.h"
#include "profiles.h"

/* ---- shapes: what profiles can name, from the model (shape.c) ---------- */

typedef enum { PK_PROPERTY, PK_REFERENCE, PK_OBJECT, PK_COLLECTION } pkind;

typedef struct pshape pshape;

typedef struct pmember {
    const char *json;      /* JSON member name: "addresses" */
    const char *name;      /* resource-model name: "EducationOrganizationAddresses" */
    const char *alt;       /* another accepted spelling (NULL): "IepPlacementMeetingIndicator" */
    pkind kind;
    bool identity;         /* part of the level's identity: always included */
    bool required;         /* in the schema's required list */
    bool descriptor;       /* a descriptor URI string (filterable) */
    const snode *node;     /* the schema node (the array for a collection) */
    pshape *sub;           /* objects and collection items; NULL for scalar items */
} pmember;

struct pshape {
    const char *cls;       /* resource-model class: "School", "EducationOrganizationAddress" */
    const char *path;      /* JSON path of the level: "$", "$.addresses[*]" */
    int n;
    pmember *m;
};

/* How each name was found, for the coverage count in tests and reports. */
typedef struct pshape_stats {
    int collections, objects;  /* nested levels built */
    int from_key;              /* named from a documentPathsMapping key */
    int from_plural_key;       /* the key was the plural JSON name (singularized) */
    int from_json;             /* no key matched: the JSON name singularized */
    int inherited;             /* owned by the superclass (EducationOrganizationAddresses) */
} pshape_stats;

/* The member tree of r, allocated in a (names point into the model). */
pshape *pshape_build(arena *a, const model *m, const mresource *r, pshape_stats *st);
/* Index of the member with that JSON name, or -1. */
int pshape_find(const pshape *s, const char *json);
/* Index of the member a profile names (name or alt), or -1. */
int pshape_find_name(const pshape *s, const char *name);
/* "Property", "Object" or "Collection": the element that names kind. */
const char *pkind_element(pkind k);

/* English plural/singular as MetaEd names collections (used on the last
 * word of PascalCase or camelCase names). Results go into out. */
void pname_plural(const char *s, char *out, size_t n);
void pname_singular(const char *s, char *out, size_t n);
/* MetaEd's appendOverlapping: base + suffix with the longest overlap of
 * base's end and suffix's start written once. */
void pname_append_overlapping(const char *base, const char *suffix, char *out, size_t n);

/* ---- compiled selections (compile.c) -------------------------------------- */

typedef enum { SEL_INCLUDE_ONLY, SEL_EXCLUDE_ONLY, SEL_INCLUDE_ALL, SEL_EXCLUDE_ALL } psel_mode;

/* A <Filter>: items pass when their descriptor at member is (IncludeOnly)
 * or is not (ExcludeOnly) one of vals. A value with '#' is a whole URI;
 * without, a code value. Compared case-insensitively. */
typedef struct pfilter {
    int member;
    bool include;
    int nvals;
    const char **vals;
} pfilter;

typedef struct psel psel;
struct psel {
    const pshape *shape;
    psel_mode mode;
    bool keep_unknown;     /* members the model does not know (_ext): kept unless IncludeOnly/ExcludeAll */
    bool *incl;            /* per member */
    psel **sub;            /* per member: the nested selection, NULL = all of it */
    int nfilt;
    pfilter *filt;         /* collection item filters (this psel is the item level) */
    bool creatable;        /* required members (and required children) all included */
};

typedef struct profile_def profile_def;

struct profile_ct {
    const profile_def *p;
    const mresource *r;
    profile_usage usage;
    psel *root;
};

typedef struct pres {
    const mresource *r;
    profile_ct *ct[2];     /* [PROFILE_READ], [PROFILE_WRITE], NULL when absent */
} pres;

struct profile_def {
    const char *name;
    const char *problem;   /* NULL when valid */
    int nres;
    pres *res;
};

struct profile_set {
    const model *m;
    arena a;
    int n, cap;
    profile_def **p;
    pshape **shapes;       /* per resource index, built when first named */
};

/* The shape of r in ps (built once). */
const pshape *profile_set_shape(profile_set *ps, const mresource *r);
bool psel_passes(const psel *item_sel, json_object *item);

#endif
