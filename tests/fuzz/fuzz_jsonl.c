/* libFuzzer target: JSON-lines load files (edhub load FILE.jsonl) through
 * the line reader and the {"resource","document"} envelope, into a target
 * that writes nothing. The input becomes a file: the reader streams files. */
#include "fuzz_model.h"
#include "load/jsonl.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static model *m;
static int fd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    m = fuzz_model("fuzz_jsonl");
    fd = memfd_create("fuzz_jsonl", 0);
    if (fd < 0) abort();
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20)) return 0;
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size) abort();
    load_stats st = {0};
    if (load_jsonl_to(NULL, m, path, NULL, &st) != ERR_OK) abort();
    if (st.lines < 0 || st.created || st.updated) abort(); /* nothing can be written */
    return 0;
}
