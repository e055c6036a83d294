/*
 * ceiling_sqlite.c - storage ceiling for the edhub benchmarks ("ceiling B").
 *
 * Inserts studentSchoolAssociation-like JSON documents (the body the benchmark
 * POSTs plus id/_etag/_lastModifiedDate, ~330 bytes) into a fresh SQLite
 * database, one row per document: a 16-byte random key (BLOB, like a UUID) with
 * a UNIQUE index on it, and the JSON text. Same settings the server uses:
 * page_size=4096 (as the server; set before the table exists), journal_mode=WAL,
 * synchronous=FULL (overridable). One prepared INSERT; BEGIN IMMEDIATE ... COMMIT
 * around every ROWS_PER_TXN rows. Documents and keys are generated before the
 * clock starts, so only SQLite work is timed.
 *
 * usage: ceiling_sqlite DB_PATH ROWS_PER_TXN MAX_ROWS MAX_SECONDS [SYNCHRONOUS [SCHEMA]]
 * SCHEMA "simple" (default) is the table above. SCHEMA "server" mimics edhub's
 * layout (src/store/store_sqlite.c at the time of writing): a documents row with
 * a TEXT uuid (UNIQUE index), resource+doc_id and change_version indexes, plus
 * one identities row (20-byte random key, WITHOUT ROWID) and two refs rows
 * (20-byte random target, WITHOUT ROWID) per document, i.e. what one SSA POST
 * writes. It shows what the storage layout itself allows.
 * Prints one JSON object (rows, elapsed_s, rows_per_s, cpu_us_per_row, db bytes,
 * bytes written to storage per row from /proc/self/io).
 *
 * Build: gcc -O2 -o ceiling_sqlite ceiling_sqlite.c -lsqlite3
 */
#define _GNU_SOURCE
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_s(clockid_t clk) {
  struct timespec ts;
  clock_gettime(clk, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1Dull;
}

static void exec_or_die(sqlite3 *db, const char *sql) {
  char *err = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
    fprintf(stderr, "ceiling_sqlite: %s: %s\n", sql, err ? err : "?");
    exit(1);
  }
}

static long long write_bytes(void) {
  FILE *f = fopen("/proc/self/io", "r");
  long long v = -1;
  char line[256];
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, "write_bytes:", 12)) v = atoll(line + 12);
  fclose(f);
  return v;
}

static void step_or_die(sqlite3 *db, sqlite3_stmt *st) {
  if (sqlite3_step(st) != SQLITE_DONE) {
    fprintf(stderr, "insert: %s\n", sqlite3_errmsg(db));
    exit(1);
  }
  sqlite3_reset(st);
}

static long long file_size(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 ? (long long)st.st_size : 0;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s DB_PATH ROWS_PER_TXN MAX_ROWS MAX_SECONDS [FULL|NORMAL|OFF [simple|server]]\n",
            argv[0]);
    return 2;
  }
  const char *path = argv[1];
  long batch = atol(argv[2]);
  long max_rows = atol(argv[3]);
  double max_s = atof(argv[4]);
  const char *sync = argc > 5 ? argv[5] : "FULL";
  const char *schema = argc > 6 ? argv[6] : "simple";
  int server = !strcmp(schema, "server");
  if (!server && strcmp(schema, "simple")) {
    fprintf(stderr, "schema must be simple or server\n");
    return 2;
  }
  if (batch < 1 || max_rows < 1 || max_s <= 0) {
    fprintf(stderr, "bad arguments\n");
    return 2;
  }
  char wal[4096], shm[4096];
  snprintf(wal, sizeof wal, "%s-wal", path);
  snprintf(shm, sizeof shm, "%s-shm", path);
  unlink(path);
  unlink(wal);
  unlink(shm);

  /* pre-generate documents and keys */
  char **docs = malloc((size_t)max_rows * sizeof *docs);
  int *lens = malloc((size_t)max_rows * sizeof *lens);
  unsigned char *keys = malloc((size_t)max_rows * 16);
  unsigned char *rkeys = malloc((size_t)max_rows * 60); /* server schema: identity + 2 ref targets */
  if (!docs || !lens || !keys || !rkeys) {
    fprintf(stderr, "out of memory\n");
    return 1;
  }
  size_t total_bytes = 0;
  for (long i = 0; i < max_rows; i++) {
    uint64_t a = rnd(), b = rnd();
    memcpy(keys + i * 16, &a, 8);
    memcpy(keys + i * 16 + 8, &b, 8);
    char buf[1024];
    int n = snprintf(buf, sizeof buf,
                     "{\"id\":\"%016llx%016llx\",\"studentReference\":{\"studentUniqueId\":\"P%ld\"},"
                     "\"schoolReference\":{\"schoolId\":255901001},\"entryDate\":\"2021-08-23\","
                     "\"entryGradeLevelDescriptor\":\"uri://ed-fi.org/GradeLevelDescriptor#Ninth grade\","
                     "\"_etag\":\"%llu\",\"_lastModifiedDate\":\"2026-01-01T00:00:00Z\"}",
                     (unsigned long long)a, (unsigned long long)b, i, (unsigned long long)(rnd() >> 1));
    for (int j = 0; j < 60; j += 8) {
      uint64_t x = rnd();
      memcpy(rkeys + i * 60 + j, &x, j + 8 <= 60 ? 8 : 60 - j);
    }
    docs[i] = strdup(buf);
    lens[i] = n;
    total_bytes += (size_t)n;
  }

  sqlite3 *db;
  if (sqlite3_open(path, &db) != SQLITE_OK) {
    fprintf(stderr, "cannot open %s\n", path);
    return 1;
  }
  exec_or_die(db, "PRAGMA page_size=4096");
  exec_or_die(db, "PRAGMA journal_mode=WAL");
  char sql[256];
  snprintf(sql, sizeof sql, "PRAGMA synchronous=%s", sync);
  exec_or_die(db, sql);
  sqlite3_stmt *ins = NULL, *ins_id = NULL, *ins_ref = NULL;
  if (!server) {
    exec_or_die(db, "CREATE TABLE doc(id INTEGER PRIMARY KEY, key BLOB NOT NULL, body TEXT NOT NULL)");
    exec_or_die(db, "CREATE UNIQUE INDEX doc_key ON doc(key)");
    if (sqlite3_prepare_v2(db, "INSERT INTO doc(key, body) VALUES(?1, ?2)", -1, &ins, NULL) != SQLITE_OK) {
      fprintf(stderr, "prepare: %s\n", sqlite3_errmsg(db));
      return 1;
    }
  } else {
    exec_or_die(db,
                "CREATE TABLE documents(doc_id INTEGER PRIMARY KEY, id TEXT NOT NULL, resource TEXT NOT NULL,"
                " ref_id BLOB NOT NULL, body TEXT NOT NULL, etag INTEGER NOT NULL, last_modified TEXT NOT NULL,"
                " change_version INTEGER NOT NULL);"
                "CREATE UNIQUE INDEX documents_id ON documents(id);"
                "CREATE INDEX documents_resource ON documents(resource, doc_id);"
                "CREATE INDEX documents_cv ON documents(change_version);"
                "CREATE TABLE identities(ref_id BLOB PRIMARY KEY, doc_id INTEGER NOT NULL) WITHOUT ROWID;"
                "CREATE TABLE refs(target BLOB NOT NULL, doc_id INTEGER NOT NULL, PRIMARY KEY(target, doc_id))"
                " WITHOUT ROWID;");
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO documents(id, resource, ref_id, body, etag, last_modified, change_version)"
                           " VALUES(?1, 'ed-fi/studentSchoolAssociations', ?2, ?3, ?4, '2026-01-01T00:00:00Z', ?5)",
                           -1, &ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO identities(ref_id, doc_id) VALUES(?1, ?2)", -1, &ins_id, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO refs(target, doc_id) VALUES(?1, ?2)", -1, &ins_ref, NULL) != SQLITE_OK) {
      fprintf(stderr, "prepare: %s\n", sqlite3_errmsg(db));
      return 1;
    }
  }

  long long wb0 = write_bytes();
  double w0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
  double deadline = w0 + max_s;
  long rows = 0;
  int timed_out = 0;
  while (rows < max_rows) {
    if (now_s(CLOCK_MONOTONIC) > deadline) {
      timed_out = 1;
      break;
    }
    exec_or_die(db, "BEGIN IMMEDIATE");
    for (long j = 0; j < batch && rows < max_rows; j++, rows++) {
      if (!server) {
        sqlite3_bind_blob(ins, 1, keys + rows * 16, 16, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, docs[rows], lens[rows], SQLITE_STATIC);
        step_or_die(db, ins);
        continue;
      }
      const unsigned char *k = keys + rows * 16, *rk = rkeys + rows * 60;
      char uuid[37];
      snprintf(uuid, sizeof uuid, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", k[0], k[1],
               k[2], k[3], k[4], k[5], k[6], k[7], k[8], k[9], k[10], k[11], k[12], k[13], k[14], k[15]);
      sqlite3_bind_text(ins, 1, uuid, 36, SQLITE_TRANSIENT);
      sqlite3_bind_blob(ins, 2, rk, 20, SQLITE_STATIC);
      sqlite3_bind_text(ins, 3, docs[rows], lens[rows], SQLITE_STATIC);
      sqlite3_bind_int64(ins, 4, (sqlite3_int64)(rows * 7919 + 1));
      sqlite3_bind_int64(ins, 5, rows + 1);
      step_or_die(db, ins);
      sqlite3_int64 doc_id = sqlite3_last_insert_rowid(db);
      sqlite3_bind_blob(ins_id, 1, rk, 20, SQLITE_STATIC);
      sqlite3_bind_int64(ins_id, 2, doc_id);
      step_or_die(db, ins_id);
      for (int r = 1; r <= 2; r++) {
        sqlite3_bind_blob(ins_ref, 1, rk + 20 * r, 20, SQLITE_STATIC);
        sqlite3_bind_int64(ins_ref, 2, doc_id);
        step_or_die(db, ins_ref);
      }
    }
    exec_or_die(db, "COMMIT");
  }
  double w1 = now_s(CLOCK_MONOTONIC), c1 = now_s(CLOCK_PROCESS_CPUTIME_ID);
  long long wb1 = write_bytes();
  sqlite3_finalize(ins);
  sqlite3_finalize(ins_id);
  sqlite3_finalize(ins_ref);
  long long wal_bytes = file_size(wal);
  sqlite3_close(db);
  double el = w1 - w0;
  printf("{\"schema\":\"%s\",\"rows_per_txn\":%ld,\"synchronous\":\"%s\",\"page_size\":4096,\"rows\":%ld,\"elapsed_s\":%.6f,"
         "\"rows_per_s\":%.1f,\"cpu_us_per_row\":%.2f,\"avg_doc_bytes\":%.1f,\"db_bytes\":%lld,"
         "\"wal_bytes_at_close\":%lld,\"write_bytes_per_row\":%.0f,\"capped_by_time\":%s,\"sqlite\":\"%s\"}\n",
         schema, batch, sync, rows, el, rows / el, rows ? (c1 - c0) * 1e6 / rows : 0,
         max_rows ? (double)total_bytes / max_rows : 0, file_size(path), wal_bytes,
         (rows && wb0 >= 0 && wb1 >= 0) ? (double)(wb1 - wb0) / rows : -1,
         timed_out ? "true" : "false", sqlite3_libversion());
  for (long i = 0; i < max_rows; i++) free(docs[i]);
  free(docs);
  free(lens);
  free(keys);
  free(rkeys);
  return 0;
}
