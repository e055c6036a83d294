/* Level-gated logging to stderr. The level check happens before any
 * formatting work. The level is configuration, set once at start-up. */
#ifndef EDHUB_LOG_H
#define EDHUB_LOG_H

enum { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };
extern int log_level;  /* configuration, not state */

void log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define LOG(level, ...) do { if ((level) <= log_level) log_write((level), __VA_ARGS__); } while (0)
#define log_error(...) LOG(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) LOG(LOG_WARN, __VA_ARGS__)
#define log_info(...) LOG(LOG_INFO, __VA_ARGS__)
#define log_debug(...) LOG(LOG_DEBUG, __VA_ARGS__)

#endif
