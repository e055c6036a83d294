/* libFuzzer target: Ed-Fi XML interchanges through the streaming reader and
 * the model-driven mapper (hostile XML: DTDs and entities, deep nesting,
 * huge text, bad references and ids). Nothing is written. */
#include "fuzz_model.h"
#include "load/xml.h"
#include <stdint.h>
#include <stdlib.h>

static model *m;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    m = fuzz_model("fuzz_xml");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    long records = 0;
    if (size > (1u << 20)) return 0;
    xml_map_memory(m, (const char *)data, size, &records, err, sizeof err);
    if (records < 0) abort();
    return 0;
}
