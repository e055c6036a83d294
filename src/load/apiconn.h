/* A connection to an Ed-Fi API over HTTP, shared by the clients edhub
 * has of other APIs (load --api, publish): the base URL checked, the
 * discovery document read (GET URL/: urls.dataManagementApi, urls.oauth,
 * urls.changeQueries, else URL/data/v3, URL/oauth/token and
 * URL/changeQueries/v1), an OAuth client-credentials token kept fresh, and
 * blocking requests on one libcurl easy handle. Single-threaded. */
#ifndef EDHUB_APICONN_H
#define EDHUB_APICONN_H
#include "../base/buf.h"
#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* A token kept across connections to the same token endpoint: a process
 * that connects again and again (publish --all-districts, a run per
 * district) would otherwise hold a live token per connection, and APIs cap
 * those per client (ODS: 15). */
typedef struct api_token_cache {
    char oauth[1024];
    char token[1024];
    double renew_at;          /* monotonic seconds; 0: never */
} api_token_cache;

typedef struct api_conn {
    char base[512];           /* the URL given, without trailing slashes */
    char data[1024];          /* dataManagementApi, without trailing slash */
    char oauth[1024];
    char changes[1024];       /* the change queries API (…/changeQueries/v1) */
    char app[256];            /* what answered: name, API version, data standard */
    char data_standard[64];   /* dataModels[0].version, or "" */
    const char *key, *secret;
    /* How the user gives the key and secret, for messages
     * ("--key and --secret, or EDHUB_KEY and EDHUB_SECRET"). */
    const char *cred_hint;
    char token[1024];
    int token_gen;            /* bumped at each new token */
    double token_renew_at;    /* monotonic seconds; 0: never */
    int64_t total_count;      /* the last answer's Total-Count header; -1: none */
    api_token_cache *cache;   /* set before api_conn_open to share tokens, or NULL */
    CURL *easy;
} api_conn;

/* Monotonic seconds. */
double api_now(void);

/* Checks the URL (flag names it in messages, e.g. "--api"), reads the
 * discovery document and gets a token. false with a message saying what
 * to do in err when the URL is bad, nothing answers, or the key and secret
 * are refused. log (may be NULL) receives a warning when the API serves
 * another data standard than want_ds. c must be zeroed before; close it
 * in any case. */
bool api_conn_open(api_conn *c, const char *url, const char *flag, const char *key, const char *secret,
                   const char *want_ds, FILE *log, char *err, size_t errlen);
void api_conn_close(api_conn *c);
/* A new token; false with a message in err. */
bool api_conn_token(api_conn *c, char *err, size_t errlen);
/* "Authorization: Bearer …" for the current token (renewed first when due;
 * false with err when renewal fails). */
bool api_conn_auth_header(api_conn *c, char *out, size_t n, char *err, size_t errlen);

/* One blocking request on the easy handle: method "GET", "POST", "PUT" or
 * "DELETE"; body (may be NULL) as JSON unless a Content-Type is among
 * hdrs; bearer: with the token (a 401 renews it and asks once more), else
 * HTTP Basic with the key and secret. The answer goes to resp; returns the
 * HTTP status, or 0 with the transport error in cerr. */
long api_conn_request(api_conn *c, const char *method, const char *url, const char *body, struct curl_slist *hdrs,
                      bool bearer, buf *resp, char *cerr, size_t cerrlen);

/* Copies a URL without its trailing slashes; false if it does not fit. */
bool api_copy_url(char *out, size_t n, const char *url);
/* When the header line p (len bytes, as libcurl hands it) is name ("Retry-After"),
 * its value without blanks and line end into out; else false. */
bool api_header_value(const char *p, size_t len, const char *name, char *out, size_t n);
/* libcurl write callback appending to a buf (ctx). */
size_t api_on_body(char *p, size_t size, size_t n, void *ctx);
/* The problem of an answer: its problem+json, or its text as the detail
 * (a new object). */
struct json_object;
struct json_object *api_problem_of(const char *body, size_t len, int status);
/* Adds a problem's members to a report line e: type and detail (always,
 * "" when absent), then the others but status (p may be NULL). */
void api_problem_into(struct json_object *e, struct json_object *p);

#endif
