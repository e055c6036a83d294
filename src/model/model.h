/* The Ed-Fi model (ApiSchema) loaded into immutable tables. Everything that
 * differs between the ~350 resources comes from here: no resource is coded
 * by hand. Loaded once at start-up, then shared read-only by all threads. */
#ifndef EDHUB_MODEL_H
#define EDHUB_MODEL_H
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* A JSON path "$.a[*].b.c" split into segments; a segment may be followed
 * by [*] (array). Only the forms the model uses are supported. */
typedef struct mseg { const char *name; bool array; } mseg;
typedef struct mpath {
    const char *text;   /* original text */
    int nseg;
    mseg *seg;
} mpath;

typedef enum { JT_STRING, JT_INTEGER, JT_NUMBER, JT_BOOLEAN, JT_OBJECT, JT_ARRAY } jtype;
typedef enum { FMT_NONE, FMT_DATE, FMT_TIME, FMT_DATETIME } jformat;
/* The three string patterns MetaEd emits (api-behavior §5.3). */
typedef enum {
    PAT_NONE,
    PAT_IDENTITY,   /* ^(?!\s)(.*\S)$  no leading/trailing whitespace, non-empty */
    PAT_REQUIRED,   /* ^(?!\s*$).+     not empty, not all whitespace */
    PAT_EDGES,      /* ^(?!\s).*(?<!\s)$ descriptor fields: no edge whitespace */
} jpattern;

typedef struct snode snode;
struct snode {
    jtype type;
    jformat format;
    jpattern pattern;
    bool trim;              /* descriptor codeValue/shortDescription */
    bool has_min, has_max;
    double min, max;
    int min_len, max_len;   /* -1 when absent */
    int min_items;
    /* objects */
    int nprops;
    const char **prop_names;
    snode **props;
    bool *required;
    /* decimals (decimalPropertyValidationInfos) */
    bool has_decimal;
    int total_digits, decimal_places;
    /* arrays */
    snode *items;
    int nuniq;                 /* arrayUniquenessConstraints: item identity */
    mpath *uniq;               /* paths relative to the item ("$.x.y") */
    bool is_descriptor_value;  /* string holding a descriptor URI */
};

typedef struct mresource mresource;
typedef struct mabstract mabstract;

/* One member of a document reference: the value at ref_path (in this
 * document) is the target's value at ident_path. */
typedef struct mrefmember {
    const char *ident_path;   /* identity path in the target, e.g. "$.schoolId" */
    mpath ref_path;           /* e.g. $.schoolReference.schoolId */
    const char *leaf;         /* last segment of ref_path */
} mrefmember;

typedef struct mref {
    const char *name;          /* documentPathsMapping key */
    const char *target_project;/* "Ed-Fi" */
    const char *target_name;   /* resource name, may be abstract */
    mresource *target;         /* NULL when the target is abstract */
    mabstract *target_abstract;
    mpath object_path;         /* path of the reference object */
    int nmembers;
    mrefmember *members;       /* in the target's identity order */
    bool in_identity;          /* some member is part of this resource's identity */
} mref;

typedef struct mdesc {
    mpath path;                /* path of the descriptor URI string */
    const char *project;       /* "Ed-Fi" */
    const char *descriptor_name; /* e.g. "GradeLevelDescriptor" */
} mdesc;

typedef enum { QT_STRING, QT_NUMBER, QT_BOOLEAN, QT_DATE, QT_DATETIME, QT_TIME } qtype;
typedef struct mquery {
    const char *name;          /* parameter name as published */
    mpath path;
    qtype type;
    bool descriptor;           /* compare case-insensitively */
    bool indexed;              /* an identity field: served from the query index */
    const char *index_key;     /* "ed-fi/students|studentUniqueId" */
} mquery;

typedef struct mequal { mpath source, target; } mequal;

/* Securable elements (authorization subjects, security.md §2.7). */
typedef enum { MSEC_EDORG, MSEC_STUDENT, MSEC_STAFF, MSEC_CONTACT, MSEC_NAMESPACE, MSEC_KINDS } msec_kind;
typedef struct msecurable {
    msec_kind kind;
    mpath path;               /* where the value is in a document */
    const char *meta_name;    /* EdOrg elements: "SchoolId", "ReportedSchool", ... (else NULL) */
} msecurable;

/* An education organization's edge to a parent in the hierarchy. */
typedef struct mparent {
    const char *parent_name;  /* "LocalEducationAgency" */
    mpath path;               /* "$.localEducationAgencyReference.localEducationAgencyId" */
} mparent;

struct mresource {
    int index;
    const char *project_name;      /* "Ed-Fi": goes into referential ids */
    const char *project_endpoint;  /* "ed-fi": the URL segment */
    const char *name;              /* MetaEd name, e.g. "School" */
    const char *endpoint;          /* e.g. "schools" */
    const char *path;              /* "/ed-fi/schools" */
    const char *description;
    bool is_descriptor;
    bool is_school_year;
    bool allow_identity_updates;
    bool is_subclass;
    bool subclass_association;     /* subclassType "association" (no rename) */
    const char *superclass_name;
    const char *superclass_identity_path; /* "$.educationOrganizationId" */
    mabstract *superclass;
    int nidentity;
    mpath *identity;
    int nrefs;
    mref *refs;
    int ndescs;
    mdesc *descs;
    int nequal;
    mequal *equal;
    int nquery;
    mquery *query;
    snode *schema;
    json_object *schema_json;      /* jsonSchemaForInsert, for OpenAPI */
    int nsecurable;
    msecurable *securable;
    bool is_edorg;                 /* listed in educationOrganizationHierarchy */
    int nparents;
    mparent *parents;
};

struct mabstract {
    const char *name;
    const char *project_name;
    int nidentity;
    mpath *identity;
    int nconcrete;
    mresource **concrete;
};

typedef struct model {
    json_object *root;            /* owns the strings the tables point at */
    void *mem;                    /* arena for the tables */
    const char *project_name;
    const char *project_version;
    const char *project_description;
    int nres;
    mresource *res;
    int nabs;
    mabstract *abs;
    mresource **by_lower;         /* sorted by lower-cased "project/endpoint" */
} model;

/* Loads an ApiSchema file. On failure returns NULL and fills err. */
model *model_load(const char *path, char *err, size_t errlen);
void model_free(model *m);
/* Finds a resource by URL segments, endpoint compared case-insensitively. */
mresource *model_find(const model *m, const char *project, const char *endpoint);
mresource *model_find_by_name(const model *m, const char *project_name, const char *name);
bool mpath_parse(void *arena, const char *text, mpath *out);

/* Dependency order (api-behavior §2.2), as a JSON array text; caller frees. */
char *model_dependencies_json(const model *m);
/* The dependency level of each resource, by index (1 = no dependencies;
 * 0 = left out of the order: school years), from the order above (a
 * person's first entry: its Create); *nlevels = the highest. Caller frees. */
int *model_dependency_levels(const model *m, int *nlevels);
/* The same graph as GraphML (Accept: application/graphml). */
char *model_dependencies_graphml(const model *m);

#endif
