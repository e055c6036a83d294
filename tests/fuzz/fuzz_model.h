/* The model every fuzz target needs, loaded once (EDHUB_MODEL or the repo's
 * DS 5.2 file, relative to the repository root where `make fuzz` runs). */
#ifndef EDHUB_FUZZ_MODEL_H
#define EDHUB_FUZZ_MODEL_H
#include "model/model.h"
#include <stdio.h>
#include <stdlib.h>

static model *fuzz_model(const char *who)
{
    char err[256];
    const char *p = getenv("EDHUB_MODEL");
    model *m = model_load(p ? p : "model/ds-5.2/ApiSchema.json", err, sizeof err);
    if (!m) {
        fprintf(stderr, "%s: %s (set EDHUB_MODEL)\n", who, err);
        abort();
    }
    return m;
}

#endif
