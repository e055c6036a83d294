/* Internal to src/api: the request object and the handlers' interface. */
#ifndef EDHUB_API_INT_H
#define EDHUB_API_INT_H
#include "../base/arena.h"
#include "../base/buf.h"
#include "../engine/engine.h"
#include "../security/authz.h"
#include "api.h"
#include "route.h"
#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>

/* The instances the server routes to, immutable once published: a reload
 * publishes a new set, and requests keep the one they started with. Old
 * sets stay until api_stop (reloads are rare and sets small). */
typedef struct inst_set {
    int n;
    instance_def *defs;
    store **stores;
    struct inst_set *older;
} inst_set;

struct api_server {
    api_config cfg;
    const model *m;
    auth *au;
    struct MHD_Daemon *d;
    char *dependencies;        /* cached JSON */
    char *dependencies_graphml;
    char *openapi_resources;
    char *openapi_descriptors;
    _Atomic(inst_set *) insts; /* the current set */
    pthread_mutex_t reload_mu;
    store **opened;            /* stores opened by reloads (closed by api_stop) */
    int nopened;
    pthread_mutex_t snap_mu;   /* the snapshot stores opened so far (never closed before api_stop) */
    struct snap_open *snaps;
    int nsnaps;
    _Atomic int inflight;      /* suspended writes */
    _Atomic bool stopping;     /* no new writes once set (api_stop) */
};

/* What a string with an invalid percent-escape is replaced by. */
#define BAD_ESCAPE "\x01" "bad-escape"

typedef enum { ST_NEW, ST_READING, ST_SUSPENDED, ST_RESUMED } req_state;

#define MAX_HEADERS 6
typedef struct request {
    api_server *srv;
    struct MHD_Connection *conn;
    arena a;
    const char *method;
    const char *url;
    const char *path;          /* url after the tenant and context segments */
    const char *root;          /* those segments as the client sent them ("" or "/2026"), or the template's */
    bool has_context;          /* the url carried the context segments */
    char ctx[INST_MAX_KEYS][INST_VALUE_MAX + 1]; /* their values */
    const inst_set *insts;     /* the instances when the request arrived */
    store *s;                  /* the instance (or its snapshot) the request uses (req_authenticate_instance) */
    int instance;              /* its index in insts */
    _Atomic req_state state;   /* set to ST_RESUMED by the writer thread */
    bool suspended;            /* handler thread only */
    buf body;                  /* request body */
    bool too_large;
    /* response */
    int status;
    const char *content_type;
    buf out;
    const char *hname[MAX_HEADERS];
    const char *hval[MAX_HEADERS];
    int nheaders;
    /* a write in flight */
    wreq w;
    outcome oc;
    const mresource *res;
    const profile_ct *profile; /* the API profile applied to this request, or NULL */
    char correlation[24];
    struct timespec started;   /* for the access log */
    const char *client_key;    /* authenticated client, for the access log */
    const auth_client *client; /* what its token grants (released with the request) */
    struct batch *batch;       /* a batch in flight (POST /edhub/v1/batch) */
} request;

/* The batch endpoint's limits: a body of JSON lines, one document each. */
#define BATCH_MAX_BODY (64u << 20)
#define BATCH_MAX_ITEMS 10000

void req_header(request *r, const char *name, const char *value);
/* An outcome's problem as Ed-Fi problem+json text, appended to out. */
void req_problem_json(request *r, buf *out, const outcome *o);
/* Checks the bearer token (401 sent when it fails). */
bool req_authenticate(request *r);
/* Checks the bearer token and chooses the ODS instance of the request
 * (r->s) from the client's instances and the route's context; false with
 * the problem sent. */
bool req_authenticate_instance(request *r);
/* Renders an outcome's problem (status >= 400) as application/problem+json. */
void req_problem(request *r, const outcome *o);
void req_simple_problem(request *r, int status, const char *type, const char *title, const char *detail,
                        const char *error);
const char *req_get_header(request *r, const char *name);
/* Absolute base URL of this server as the client addressed it, with the
 * tenant and context segments (the "route root"). */
const char *req_base_url(request *r);

/* Handlers: each either fills the response or (writes) suspends. */
void handle_discovery(request *r);
void handle_metadata(request *r, route_kind k);
void handle_token(request *r);
void handle_token_info(request *r);
void handle_data(request *r, const route *rt);
/* GET /changeQueries/v1/snapshots. */
void handle_snapshots(request *r);
/* GET /changeQueries/v1/availableChangeVersions. */
void handle_change_versions(request *r);
/* POST /edhub/v1/batch, and its answer once every item is written. */
void handle_batch(request *r);
void handle_batch_done(request *r);
/* /adminapi/... (Admin API 2.x subset). */
void handle_admin(request *r);
/* The client's IP address as text ("" when unknown). */
void req_peer_address(request *r, char *out, size_t n);
/* Called when the store finished a suspended write. */
void handle_write_done(request *r);

char *openapi_build(const model *m, bool descriptors);

#endif
