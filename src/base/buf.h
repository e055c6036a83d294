/* Growable byte buffer with a hard maximum, always NUL-terminated.
 * Errors are sticky: after a failed append every later append is a no-op
 * and buf_failed() says so, so builders check once at the end. */
#ifndef EDHUB_BUF_H
#define EDHUB_BUF_H
#include <stdbool.h>
#include <stddef.h>

typedef struct buf {
    char *data;
    size_t len, cap, max;
    bool failed;
} buf;

void buf_init(buf *b, size_t max);   /* max = 0: no limit beyond memory */
void buf_free(buf *b);
void buf_reset(buf *b);
bool buf_append(buf *b, const void *p, size_t n);
bool buf_puts(buf *b, const char *s);
bool buf_putc(buf *b, char c);
bool buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included. */
bool buf_json_str(buf *b, const char *s);
bool buf_json_strn(buf *b, const char *s, size_t n);
static inline bool buf_failed(const buf *b) { return b->failed; }
/* Hands the heap string to the caller (free() it); the buffer is reset. */
char *buf_take(buf *b);

#endif
