/* Claim sets and the resource-claim hierarchy (Ed-Fi's security metadata):
 * which actions a claim set grants on a resource, and with which
 * authorization strategies, resolved exactly as ODS/API 7 does
 * (docs: security.md §2.2). Loaded from the DMS Claims.json format
 * (model/ds-5.2/security/claims.json); decisions are precomputed per
 * (claim set, resource claim, action), so a request costs one lookup. */
#ifndef EDHUB_CLAIMS_H
#define EDHUB_CLAIMS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { SEC_CREATE, SEC_READ, SEC_UPDATE, SEC_DELETE, SEC_READ_CHANGES, SEC_ACTIONS } sec_action;

/* Authorization strategies, as bits of a set. */
enum {
    ST_NO_FURTHER = 1u << 0,              /* NoFurtherAuthorizationRequired */
    ST_NAMESPACE = 1u << 1,               /* NamespaceBased (AND) */
    ST_OWNERSHIP = 1u << 2,               /* OwnershipBased (AND) */
    ST_EDORGS_AND_PEOPLE = 1u << 3,       /* RelationshipsWithEdOrgsAndPeople (OR) */
    ST_EDORGS_ONLY = 1u << 4,             /* RelationshipsWithEdOrgsOnly */
    ST_PEOPLE_ONLY = 1u << 5,             /* RelationshipsWithPeopleOnly */
    ST_STUDENTS_ONLY = 1u << 6,           /* RelationshipsWithStudentsOnly */
    ST_STUDENTS_RESPONSIBILITY = 1u << 7, /* RelationshipsWithStudentsOnlyThroughResponsibility */
    ST_EDORGS_AND_PEOPLE_INVERTED = 1u << 8,
    ST_EDORGS_ONLY_INVERTED = 1u << 9,
    ST_EDORGS_AND_PEOPLE_DELETES = 1u << 10, /* ...IncludingDeletes */
    ST_STUDENTS_ONLY_DELETES = 1u << 11,
    ST_STUDENTS_RESPONSIBILITY_DELETES = 1u << 12,
};
/* The strategies that combine with AND (checked first); the rest OR. */
#define ST_AND_MASK (ST_NAMESPACE | ST_OWNERSHIP)

typedef enum {
    DECIDE_GRANTED,        /* *strategies holds the strategies to apply */
    DECIDE_NO_RESOURCE,    /* 403 ...:access-denied:resource */
    DECIDE_NO_ACTION,      /* 403 ...:access-denied:action */
    DECIDE_NO_METADATA,    /* 500: the resource has no claim in the hierarchy */
    DECIDE_NO_STRATEGY,    /* 500: granted, but no strategy resolves */
} claims_decision;

typedef struct claims claims;

/* Loads the hierarchy and claim sets; names_path (optional) maps DMS
 * claim-set names to ODS ones ({"SISVendor": "SIS Vendor", ...}), and both
 * names then find the set. Rejects unknown actions or strategies,
 * duplicate claims and duplicate claim sets, with a reason in err. */
claims *claims_load(const char *path, const char *names_path, char *err, size_t errlen);
/* The same, adding the claim sets of extra files in the same format, whose
 * hierarchy nodes (at any depth) name existing resource claims and carry
 * only grants: edhub's own claim sets, and a deployment's. */
claims *claims_load_with(const char *path, const char *names_path, const char *const *extra, int nextra, char *err,
                         size_t errlen);
/* A claim set's grants in the extra-file format (for export and re-import
 * under the same name elsewhere); caller frees. */
char *claims_export(const claims *c, int set);
/* The same from text (untrusted: parsed strictly). */
claims *claims_parse(const char *text, size_t len, const char *names_text, char *err, size_t errlen);
void claims_free(claims *c);

/* The index of a claim set by either of its names, or -1. */
int claims_set_index(const claims *c, const char *name);
const char *claims_set_name(const claims *c, int set); /* its ODS name */
int claims_set_count(const claims *c);
bool claims_set_reserved(const claims *c, int set);

/* The resource claim of a resource, by its MetaEd name ("StudentSchoolAssociation")
 * and project ("ed-fi"); -1 when the hierarchy has none. */
int claims_resource_claim(const claims *c, const char *project_endpoint, const char *resource_name);

/* What claim set `set` may do with action `act` on resource claim `claim`. */
claims_decision claims_decide(const claims *c, int set, int claim, sec_action act, uint32_t *strategies);

/* Strategy and action names (for messages and file formats); 0 / -1 when unknown. */
uint32_t claims_strategy_bit(const char *name);
const char *claims_strategy_name(uint32_t bit);
int claims_action_index(const char *name);
const char *claims_action_name(sec_action act);

#endif
