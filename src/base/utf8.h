/* Strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF. */
#ifndef EDHUB_UTF8_H
#define EDHUB_UTF8_H
#include <stdbool.h>
#include <stddef.h>

/* Length (1-4) of the valid sequence at s (avail bytes left), or 0. */
size_t utf8_seq(const unsigned char *s, size_t avail);
/* True when the NUL-terminated string is valid UTF-8. */
bool utf8_valid(const char *s);

#endif
