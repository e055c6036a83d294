/* Leak checking inside Criterion: its test workers exit without running
 * LeakSanitizer, so every test suite's .fini asks LSan directly. A leak
 * aborts the worker, which Criterion reports as a crashed test. */
#ifndef EDHUB_UNIT_LEAK_H
#define EDHUB_UNIT_LEAK_H
#include <stdio.h>
#include <stdlib.h>
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNIT_HAVE_LSAN 1
#endif
#endif
#ifdef UNIT_HAVE_LSAN
#include <sanitizer/lsan_interface.h>
#endif

static inline void unit_leak_check(void)
{
#ifdef UNIT_HAVE_LSAN
    if (__lsan_do_recoverable_leak_check()) {
        fputs("unit: memory leaked in this test (LeakSanitizer report above)\n", stderr);
        abort();
    }
#endif
}

#endif
