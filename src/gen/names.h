/* Names for generated people and places (common US first names and
 * surnames, invented town names). */
#ifndef EDHUB_GEN_NAMES_H
#define EDHUB_GEN_NAMES_H
#include "rng.h"
#include <stddef.h>

const char *name_first(rng *r, int female);
const char *name_last(rng *r);
/* A town name such as "Cedar Falls" into out. */
void name_town(rng *r, char *out, size_t n);
/* A street address such as "1412 Oak Street" into out. */
void name_street(rng *r, char *out, size_t n);

#endif
