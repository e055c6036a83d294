/* UUIDs: time-ordered v7 for public resource ids, name-based v5 (SHA-1)
 * for Ed-Fi referential ids (api-behavior §10), random v4. */
#ifndef EDHUB_UUID_H
#define EDHUB_UUID_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct { uint8_t b[16]; } uuid_t16;

void uuid_v4(uuid_t16 *out);
/* RFC 9562 version 7: 48-bit Unix milliseconds, then 74 random bits. New
 * ids sort after older ones, so the index over resource ids grows at its
 * end instead of touching a random page per insert (no slow-down as a
 * database outgrows memory), and they stay unguessable. */
void uuid_v7(uuid_t16 *out);
void uuid_v5(const uuid_t16 *ns, const void *name, size_t len, uuid_t16 *out);
/* The Ed-Fi referential-id namespace edf1edf1-3df1-3df1-3df1-3df1edf1edf1. */
const uuid_t16 *uuid_edfi_namespace(void);
/* Lower-case hyphenated form, 36 chars + NUL. */
void uuid_format(const uuid_t16 *u, char out[37]);
/* Accepts hyphenated (36) or plain 32-hex forms, any case. */
bool uuid_parse(const char *s, uuid_t16 *out);
/* Fills buf with n random bytes from the kernel CSPRNG. */
void random_bytes(void *buf, size_t n);

#endif
