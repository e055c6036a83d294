#include "uuid.h"
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

void random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r <= 0) {
            perror("edhub: getrandom");
            abort();
        }
        p += r;
        n -= (size_t)r;
    }
}

/* Document ids need 16 random bytes each: drawing them from a per-thread
 * pool filled by one getrandom() call per 256 ids spares a system call per
 * document (seen in load profiles). The pool is kernel CSPRNG output,
 * used once and wiped as it is handed out. */
#define ID_POOL 4096
static _Thread_local unsigned char id_pool[ID_POOL];
static _Thread_local size_t id_left;

void uuid_v4(uuid_t16 *out)
{
    if (id_left < 16) {
        random_bytes(id_pool, ID_POOL);
        id_left = ID_POOL;
    }
    unsigned char *p = id_pool + ID_POOL - id_left;
    memcpy(out->b, p, 16);
    memset(p, 0, 16);
    id_left -= 16;
    out->b[6] = (uint8_t)((out->b[6] & 0x0f) | 0x40);
    out->b[8] = (uint8_t)((out->b[8] & 0x3f) | 0x80);
}

void uuid_v7(uuid_t16 *out)
{
    uuid_v4(out);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    for (int i = 0; i < 6; i++) out->b[i] = (uint8_t)(ms >> (40 - 8 * i));
    out->b[6] = (uint8_t)((out->b[6] & 0x0f) | 0x70);
}

void uuid_v5(const uuid_t16 *ns, const void *name, size_t len, uuid_t16 *out)
{
    /* One-shot SHA-1 over namespace + name; names are short, so the input
     * is assembled on the stack (no per-call digest context to allocate). */
    unsigned char stackbuf[1024], md[SHA_DIGEST_LENGTH];
    unsigned char *in = len + 16 <= sizeof stackbuf ? stackbuf : malloc(len + 16);
    if (!in) abort();
    memcpy(in, ns->b, 16);
    memcpy(in + 16, name, len);
    SHA1(in, len + 16, md);
    if (in != stackbuf) free(in);
    memcpy(out->b, md, 16);
    out->b[6] = (uint8_t)((out->b[6] & 0x0f) | 0x50);
    out->b[8] = (uint8_t)((out->b[8] & 0x3f) | 0x80);
}

const uuid_t16 *uuid_edfi_namespace(void)
{
    static const uuid_t16 ns = {{0xed, 0xf1, 0xed, 0xf1, 0x3d, 0xf1, 0x3d, 0xf1, 0x3d, 0xf1, 0x3d,
                                 0xf1, 0xed, 0xf1, 0xed, 0xf1}};
    return &ns;
}

void uuid_format(const uuid_t16 *u, char out[37])
{
    static const char hex[] = "0123456789abcdef";
    int j = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[j++] = '-';
        out[j++] = hex[u->b[i] >> 4];
        out[j++] = hex[u->b[i] & 15];
    }
    out[j] = 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool uuid_parse(const char *s, uuid_t16 *out)
{
    size_t n = strlen(s);
    bool hyph = n == 36;
    if (n != 36 && n != 32) return false;
    int k = 0;
    for (size_t i = 0; i < n;) {
        if (hyph && (i == 8 || i == 13 || i == 18 || i == 23)) {
            if (s[i] != '-') return false;
            i++;
            continue;
        }
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0) return false;
        out->b[k++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    return k == 16;
}
