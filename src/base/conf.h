/* The instance configuration file (DIR/edhub.conf): "name = value" lines,
 * '#' comments, surrounding blanks ignored. */
#ifndef EDHUB_CONF_H
#define EDHUB_CONF_H
#include <stdbool.h>
#include <stddef.h>

/* The value of name in text (the first occurrence), copied into out;
 * false when absent, empty or longer than n - 1. */
bool conf_find(const char *text, const char *name, char *out, size_t n);
/* The same for a file (at most 64 KiB is read); false when unreadable. */
bool conf_get(const char *path, const char *name, char *out, size_t n);

#endif
