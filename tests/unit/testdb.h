/* Where a unit test's store lives: a fresh SQLite file under /tmp, or, when
 * EDHUB_UNIT_PG names a test server's directory (scripts/with-pg.sh), a fresh
 * PostgreSQL database in it, so that the same tests cover both backends. */
#ifndef EDHUB_UNIT_TESTDB_H
#define EDHUB_UNIT_TESTDB_H
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline void testdb_location(char *dir, size_t dirlen, char *path, size_t pathlen)
{
    const char *pg = getenv("EDHUB_UNIT_PG");
    snprintf(dir, dirlen, "/tmp/edhub-unit-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    if (!pg || !*pg) {
        snprintf(path, pathlen, "%s/ods.sqlite", dir);
        return;
    }
    char cmd[512];
    const char *name = strrchr(dir, '-') + 1;
    snprintf(cmd, sizeof cmd, "scripts/pg-test-server.sh createdb '%s' 'unit_%s' 2>&1", pg, name);
    FILE *f = popen(cmd, "r");
    cr_assert_not_null(f);
    char url[256] = "";
    cr_assert_not_null(fgets(url, sizeof url, f), "createdb printed nothing");
    pclose(f);
    url[strcspn(url, "\n")] = 0;
    cr_assert(strncmp(url, "postgresql://", 13) == 0, "createdb failed: %s", url);
    snprintf(path, pathlen, "%s", url);
}

/* Removes a test's SQLite files (and their directory). */
static inline void testdb_remove(const char *dir, const char *path)
{
    const char *sfx[] = {"", "-wal", "-shm", "-journal"};
    for (int i = 0; i < 4; i++) {
        char p[300];
        snprintf(p, sizeof p, "%s%s", path, sfx[i]);
        unlink(p);
    }
    rmdir(dir);
}

#endif
