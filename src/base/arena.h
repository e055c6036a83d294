/* Per-request bump allocator: everything a request allocates lives here and
 * is released in one call when the request ends. Allocation never returns
 * NULL: out of memory aborts (a server that half-handles OOM is worse). */
#ifndef EDHUB_ARENA_H
#define EDHUB_ARENA_H
#include <stddef.h>

typedef struct arena_block arena_block;
typedef struct arena {
    arena_block *head;
    size_t block_size;
} arena;

void arena_init(arena *a, size_t block_size);
void arena_free(arena *a);                  /* releases every block */
void *arena_alloc(arena *a, size_t n);      /* zeroed, 16-byte aligned */
char *arena_strdup(arena *a, const char *s);
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Checked allocation for long-lived objects: aborts on failure. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

#endif
