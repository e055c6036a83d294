/*
 * ceiling_http.c - HTTP ceiling for the edhub benchmarks ("ceiling A").
 *
 * A minimal libmicrohttpd server configured the way a real server is (the same
 * daemon flags as src/api/http.c: MHD_USE_EPOLL_INTERNAL_THREAD |
 * MHD_ALLOW_SUSPEND_RESUME, connection limit 4096, timeout 120 s), with a thread
 * pool of nproc threads (or argv[2]),
 * and the response queued on the SECOND access-handler call (queueing on the
 * first call makes MHD 0.9.75 answer "Connection: close"). It answers every
 * request with a fixed JSON body: a small default one, or the bytes of the file
 * given as argv[3] (the benchmark passes the real server's GET / body so both
 * send the same number of bytes). Request bodies are read and discarded.
 *
 * usage: ceiling_http PORT [THREADS|0] [BODY_FILE]     (listens on 127.0.0.1 only)
 * Stops on SIGTERM or SIGINT.
 *
 * Build: gcc -O2 -o ceiling_http ceiling_http.c $(pkg-config --cflags --libs libmicrohttpd)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#if MHD_VERSION < 0x00097002
typedef int MHD_Result_t;
#else
typedef enum MHD_Result MHD_Result_t;
#endif

static const char default_body[] =
    "{\"version\":\"7.3\",\"applicationName\":\"Ed-Fi ODS / API\",\"informationalVersion\":\"7.3\","
    "\"suite\":\"3\",\"build\":\"ceiling\",\"dataModels\":[{\"name\":\"Ed-Fi\",\"version\":\"5.2.0\","
    "\"informationalVersion\":\"The Ed-Fi Data Standard v5.2.0\"}],\"urls\":{\"dependencies\":"
    "\"http://127.0.0.1/metadata/data/v3/dependencies\",\"openApiMetadata\":\"http://127.0.0.1/metadata/\","
    "\"oauth\":\"http://127.0.0.1/oauth/token\",\"dataManagementApi\":\"http://127.0.0.1/data/v3/\","
    "\"xsdMetadata\":\"http://127.0.0.1/metadata/xsd\"}}";

static char *body = (char *)default_body;
static size_t body_len = sizeof default_body - 1;
static volatile sig_atomic_t stop;

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

static MHD_Result_t handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                            const char *version, const char *upload_data, size_t *upload_data_size,
                            void **con_cls) {
  static int first_call_marker;
  (void)cls;
  (void)url;
  (void)method;
  (void)version;
  (void)upload_data;
  if (*con_cls == NULL) { /* first call: headers only; do NOT queue here */
    *con_cls = &first_call_marker;
    return MHD_YES;
  }
  if (*upload_data_size != 0) { /* discard request body */
    *upload_data_size = 0;
    return MHD_YES;
  }
  struct MHD_Response *r = MHD_create_response_from_buffer(body_len, body, MHD_RESPMEM_PERSISTENT);
  if (!r) return MHD_NO;
  MHD_add_response_header(r, "Content-Type", "application/json; charset=utf-8");
  MHD_Result_t ret = MHD_queue_response(c, MHD_HTTP_OK, r);
  MHD_destroy_response(r);
  return ret;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PORT [THREADS|0] [BODY_FILE]\n", argv[0]);
    return 2;
  }
  int port = atoi(argv[1]);
  long threads = argc > 2 ? atol(argv[2]) : 0;
  if (threads <= 0) threads = sysconf(_SC_NPROCESSORS_ONLN);
  if (threads <= 0) threads = 1;
  if (argc > 3) {
    FILE *f = fopen(argv[3], "rb");
    if (!f) {
      perror(argv[3]);
      return 2;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (n <= 0 || n > (1 << 20)) {
      fprintf(stderr, "body file size %ld out of range\n", n);
      return 2;
    }
    body = malloc((size_t)n);
    if (!body || fread(body, 1, (size_t)n, f) != (size_t)n) {
      fprintf(stderr, "cannot read body file\n");
      return 2;
    }
    body_len = (size_t)n;
    fclose(f);
  }

  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

  struct MHD_Daemon *d = MHD_start_daemon(
      MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, (uint16_t)port, NULL, NULL, handler, NULL,
      MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)threads,
      MHD_OPTION_CONNECTION_LIMIT, (unsigned int)4096, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120,
      MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024, MHD_OPTION_END);
  if (!d) {
    fprintf(stderr, "ceiling_http: MHD_start_daemon failed on 127.0.0.1:%d\n", port);
    return 1;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  fprintf(stderr, "ceiling_http: listening on 127.0.0.1:%d, %ld pool threads, body %zu bytes\n", port, threads,
          body_len);
  while (!stop) sleep(1); /* bounded: re-checks the flag at least once a second */
  MHD_stop_daemon(d);
  return 0;
}
