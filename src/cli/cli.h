/* Internal to src/cli: what the command files share. */
#ifndef EDHUB_CLI_H
#define EDHUB_CLI_H
#include "../security/claims.h"
#include "../store/admin.h"
#include <stdbool.h>
#include <stddef.h>

#define DB_FILE "ods.sqlite"
#define CONF_FILE "edhub.conf"

/* A data file shipped with edhub (next to the binary, or installed). */
const char *cli_data_file(const char *rel, char *out, size_t n);
/* Where the instance in dir keeps its data (SQLite path or PostgreSQL URL);
 * false when dir holds no instance. */
bool cli_instance_location(const char *dir, char *out, size_t n);
/* The claim sets: Ed-Fi's, edhub's, and the deployment's (DIR/claimsets.json). */
claims *cli_load_claims(const char *dir);
/* The API profiles: the deployment's DIR/profiles/NAME.xml, then edhub's
 * shipped ones (model/ds-5.2/profiles); problems are logged. Never NULL. */
struct profile_set;
struct model;
struct profile_set *cli_load_profiles(const struct model *m, const char *dir);
/* The admin store of the instance in dir (after saying why, NULL). */
admin_store *cli_open_admin(const char *dir);
/* Takes the value of option argv[*i] into *slot (advancing *i); 2 after
 * saying so when it is missing. */
int cli_option_value(int argc, char **argv, int *i, const char **slot);
/* 0 when --data was given; else 2 after printing the usage. */
int cli_require_data(const char *data, const char *usage);
/* "cli:USER" for the audit log. */
const char *cli_actor(void);

struct store;
/* The Ed-Fi model (file NULL: EDHUB_MODEL or the shipped DS 5.2), or NULL
 * after saying why. */
struct model *cli_load_model(const char *file);
/* Opens (creating when new) the store of the instance in dir; database:
 * a PostgreSQL URL for a new instance, or NULL. NULL after saying why. */
struct store *cli_open_store(const char *dir, const char *database, int readers, const struct model *m, bool migrate,
                             bool bulk);
/* The same, read-only when read_only (beside a running server: on
 * PostgreSQL it does not take the single-writer lock). */
struct store *cli_open_store_ro(const char *dir, const char *database, int readers, const struct model *m, bool migrate,
                                bool bulk, bool read_only);
/* Writes dir/edhub.conf naming a PostgreSQL database (private file);
 * false after saying why. */
bool cli_write_database_conf(const char *dir, const char *database);
/* Loads the bootstrap set (file NULL: the shipped one) into s; 0, or 1
 * after saying why (rejections in dir/bootstrap-errors.jsonl). */
int cli_bootstrap(const struct model *m, struct store *s, const char *dir, const char *bootstrap);
/* The directory of instance name of the deployment in dir (into out);
 * false after saying why (no deployment, no such instance). */
bool cli_resolve_instance(const char *dir, const char *name, char *out, size_t n);

int cmd_clients(int argc, char **argv);
int cmd_instances(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_vendors(int argc, char **argv);
int cmd_claimsets(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_publish(int argc, char **argv);

#endif
