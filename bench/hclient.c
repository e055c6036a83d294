/*
 * hclient.c - small keep-alive HTTP/1.1 load client for the edhub benchmarks.
 *
 * Sends a fixed number of requests built from templates over C persistent
 * connections (one blocking socket per thread), measures the latency of every
 * request (send of the first byte -> last byte of the response received) and
 * prints one JSON object with throughput, latency percentiles and status counts.
 * Only talks to 127.0.0.1.
 *
 * Templates (-u URL path, -b body, -H header, -O output line) may contain:
 *   {n}        the request counter: START + k (k = 0 .. WARMUP+COUNT-1)
 *   {1}..{9}   tab-separated fields of input line (k mod lines) of -i FILE
 *   {loc}      (output template only) the last path segment of the Location header
 *   {status}   (output template only) the response status code
 *
 * Requests 0..WARMUP-1 are sent first and not recorded.
 *
 * Build: gcc -O2 -pthread -o hclient hclient.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEADERS 8
#define MAX_FIELDS 9

static int port;
static int conns = 1;
static long count = 1;
static long warmup;
static long start_n;
static const char *method = "GET";
static const char *url_tpl = "/";
static const char *body_tpl;
static const char *content_type = "application/json";
static const char *in_path;
static const char *out_path;
static const char *out_tpl;
static const char *headers[MAX_HEADERS];
static int nheaders;
static int expect_status;
static double deadline_s = 600;
static double req_timeout_s = 60;
static const char *label = "";

/* input lines split into fields */
static char ***in_fields;
static int *in_nfields;
static long in_lines;

static atomic_long next_k;
static atomic_long status_counts[600];
static atomic_long io_errors;
static atomic_long reconnects;
static atomic_long conn_close_hdr;
static atomic_long body_bytes;
static atomic_long done_timed;
static atomic_int stop_flag;
static double *lat_ms; /* indexed by k - warmup */
static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;
static FILE *out_fp;
static struct timespec t_begin;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *msg) {
  fprintf(stderr, "hclient: %s\n", msg);
  exit(2);
}

/* ---- growable buffer ---- */
struct buf {
  char *p;
  size_t len, cap;
};

static void buf_reserve(struct buf *b, size_t extra) {
  if (b->len + extra + 1 <= b->cap) return;
  size_t nc = b->cap ? b->cap : 4096;
  while (nc < b->len + extra + 1) nc *= 2;
  char *np = realloc(b->p, nc);
  if (!np) die("out of memory");
  b->p = np;
  b->cap = nc;
}

static void buf_add(struct buf *b, const char *s, size_t n) {
  buf_reserve(b, n);
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = 0;
}

static void buf_adds(struct buf *b, const char *s) { buf_add(b, s, strlen(s)); }

/* expand a template for request k */
static void expand(struct buf *b, const char *tpl, long k, const char *loc, int status) {
  const char *p = tpl;
  char num[32];
  while (*p) {
    if (*p == '{') {
      const char *e = strchr(p, '}');
      if (e) {
        size_t n = (size_t)(e - p - 1);
        if (n == 1 && p[1] == 'n') {
          snprintf(num, sizeof num, "%ld", start_n + k);
          buf_adds(b, num);
          p = e + 1;
          continue;
        }
        if (n == 1 && p[1] >= '1' && p[1] <= '9') {
          int f = p[1] - '1';
          if (!in_lines) die("template uses {N} but no -i input file");
          long line = k % in_lines;
          if (f < in_nfields[line]) buf_adds(b, in_fields[line][f]);
          p = e + 1;
          continue;
        }
        if (n == 3 && !strncmp(p + 1, "loc", 3)) {
          buf_adds(b, loc ? loc : "");
          p = e + 1;
          continue;
        }
        if (n == 6 && !strncmp(p + 1, "status", 6)) {
          snprintf(num, sizeof num, "%d", status);
          buf_adds(b, num);
          p = e + 1;
          continue;
        }
      }
    }
    if (*p == '\\' && p[1] == 't') { /* allow \t in output templates */
      buf_add(b, "\t", 1);
      p += 2;
      continue;
    }
    buf_add(b, p, 1);
    p++;
  }
}

static void load_input(void) {
  FILE *f = fopen(in_path, "r");
  if (!f) die("cannot open input file");
  size_t cap = 1024;
  in_fields = malloc(cap * sizeof *in_fields);
  in_nfields = malloc(cap * sizeof *in_nfields);
  char *line = NULL;
  size_t lcap = 0;
  ssize_t n;
  while ((n = getline(&line, &lcap, f)) > 0) {
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
    if (n == 0) continue;
    if ((size_t)in_lines == cap) {
      cap *= 2;
      in_fields = realloc(in_fields, cap * sizeof *in_fields);
      in_nfields = realloc(in_nfields, cap * sizeof *in_nfields);
      if (!in_fields || !in_nfields) die("out of memory");
    }
    char *copy = strdup(line);
    char **flds = calloc(MAX_FIELDS, sizeof *flds);
    int nf = 0;
    char *s = copy;
    while (nf < MAX_FIELDS) {
      flds[nf++] = s;
      char *t = strchr(s, '\t');
      if (!t) break;
      *t = 0;
      s = t + 1;
    }
    in_fields[in_lines] = flds;
    in_nfields[in_lines] = nf;
    in_lines++;
  }
  free(line);
  fclose(f);
  if (!in_lines) die("input file is empty");
}

static int connect_local(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct timeval tv = {(time_t)req_timeout_s, (suseconds_t)((req_timeout_s - (time_t)req_timeout_s) * 1e6)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static int send_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* read more bytes into rb; returns bytes read, 0 on EOF, -1 on error */
static ssize_t fill(int fd, struct buf *rb) {
  buf_reserve(rb, 65536);
  for (;;) {
    ssize_t r = recv(fd, rb->p + rb->len, rb->cap - rb->len - 1, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r > 0) {
      rb->len += (size_t)r;
      rb->p[rb->len] = 0;
    }
    return r;
  }
}

struct resp {
  int status;
  int close;
  size_t body_len;
  char loc[256];
};

static const char *find_crlfcrlf(const char *p, size_t n) {
  return memmem(p, n, "\r\n\r\n", 4);
}

/* Read one response from fd. rb may hold leftover bytes; they are consumed.
 * Returns 0 on success, -1 on I/O error or malformed response. */
static int read_response(int fd, struct buf *rb, struct resp *rs, int head_only) {
  const char *hend;
  while (!(hend = find_crlfcrlf(rb->p ? rb->p : "", rb->len))) {
    if (fill(fd, rb) <= 0) return -1;
  }
  size_t hlen = (size_t)(hend - rb->p) + 4;
  memset(rs, 0, sizeof *rs);
  if (rb->len < 12 || strncmp(rb->p, "HTTP/1.", 7) != 0) return -1;
  rs->status = atoi(rb->p + 9);
  long clen = -1;
  int chunked = 0;
  /* parse headers */
  char *line = strstr(rb->p, "\r\n") + 2;
  while (line < rb->p + hlen - 2) {
    char *eol = strstr(line, "\r\n");
    if (!eol) return -1;
    char *colon = memchr(line, ':', (size_t)(eol - line));
    if (colon) {
      size_t nlen = (size_t)(colon - line);
      char *v = colon + 1;
      while (*v == ' ' || *v == '\t') v++;
      size_t vlen = (size_t)(eol - v);
      if (nlen == 14 && !strncasecmp(line, "Content-Length", 14)) {
        clen = strtol(v, NULL, 10);
      } else if (nlen == 17 && !strncasecmp(line, "Transfer-Encoding", 17)) {
        if (vlen >= 7 && strcasestr(v, "chunked") && strcasestr(v, "chunked") < eol) chunked = 1;
      } else if (nlen == 10 && !strncasecmp(line, "Connection", 10)) {
        if (vlen >= 5 && !strncasecmp(v, "close", 5)) rs->close = 1;
      } else if (nlen == 8 && !strncasecmp(line, "Location", 8)) {
        /* keep the last path segment (without query) */
        const char *end = eol;
        const char *q = memchr(v, '?', vlen);
        if (q) end = q;
        const char *seg = end;
        while (seg > v && seg[-1] != '/') seg--;
        size_t sl = (size_t)(end - seg);
        if (sl >= sizeof rs->loc) sl = sizeof rs->loc - 1;
        memcpy(rs->loc, seg, sl);
        rs->loc[sl] = 0;
      }
    }
    line = eol + 2;
  }
  int no_body = head_only || rs->status == 204 || rs->status == 304 || (rs->status >= 100 && rs->status < 200);
  size_t consumed;
  if (no_body) {
    consumed = hlen;
  } else if (chunked) {
    size_t pos = hlen;
    size_t total = 0;
    for (;;) {
      char *crlf;
      while (!(crlf = memmem(rb->p + pos, rb->len - pos, "\r\n", 2))) {
        if (fill(fd, rb) <= 0) return -1;
      }
      long sz = strtol(rb->p + pos, NULL, 16);
      if (sz < 0) return -1;
      size_t data = (size_t)(crlf - rb->p) + 2;
      if (sz == 0) {
        /* trailers: read until empty line */
        size_t tpos = data;
        for (;;) {
          char *e;
          while (!(e = memmem(rb->p + tpos, rb->len - tpos, "\r\n", 2))) {
            if (fill(fd, rb) <= 0) return -1;
          }
          size_t l = (size_t)(e - (rb->p + tpos));
          tpos += l + 2;
          if (l == 0) break;
        }
        consumed = tpos;
        break;
      }
      while (rb->len < data + (size_t)sz + 2) {
        if (fill(fd, rb) <= 0) return -1;
      }
      total += (size_t)sz;
      pos = data + (size_t)sz + 2;
    }
    rs->body_len = total;
  } else if (clen >= 0) {
    while (rb->len < hlen + (size_t)clen) {
      if (fill(fd, rb) <= 0) return -1;
    }
    consumed = hlen + (size_t)clen;
    rs->body_len = (size_t)clen;
  } else {
    /* body until close */
    for (;;) {
      ssize_t r = fill(fd, rb);
      if (r < 0) return -1;
      if (r == 0) break;
    }
    consumed = rb->len;
    rs->body_len = rb->len - hlen;
    rs->close = 1;
  }
  /* drop consumed bytes, keep leftovers */
  memmove(rb->p, rb->p + consumed, rb->len - consumed);
  rb->len -= consumed;
  if (rb->p) rb->p[rb->len] = 0;
  return 0;
}

static void *worker(void *arg) {
  (void)arg;
  struct buf req = {0}, tmp = {0}, rb = {0}, outl = {0};
  int fd = -1;
  int head_only = !strcmp(method, "HEAD");
  double dl = now_s() + deadline_s;
  for (;;) {
    if (atomic_load(&stop_flag)) break;
    long k = atomic_fetch_add(&next_k, 1);
    if (k >= warmup + count) break;
    if (now_s() > dl) {
      atomic_store(&stop_flag, 1);
      break;
    }
    /* build request */
    req.len = 0;
    tmp.len = 0;
    expand(&tmp, url_tpl, k, NULL, 0);
    buf_adds(&req, method);
    buf_adds(&req, " ");
    buf_add(&req, tmp.p, tmp.len);
    char hb[128];
    snprintf(hb, sizeof hb, " HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: edhub-bench-hclient\r\nAccept: application/json\r\n", port);
    buf_adds(&req, hb);
    for (int i = 0; i < nheaders; i++) {
      if (strchr(headers[i], '{'))
        expand(&req, headers[i], k, NULL, 0);
      else
        buf_adds(&req, headers[i]);
      buf_adds(&req, "\r\n");
    }
    if (body_tpl) {
      tmp.len = 0;
      expand(&tmp, body_tpl, k, NULL, 0);
      snprintf(hb, sizeof hb, "Content-Type: %.60s\r\nContent-Length: %zu\r\n\r\n", content_type, tmp.len);
      buf_adds(&req, hb);
      buf_add(&req, tmp.p, tmp.len);
    } else {
      buf_adds(&req, "\r\n");
    }
    if (fd < 0) {
      fd = connect_local();
      if (fd < 0) {
        atomic_fetch_add(&io_errors, 1);
        usleep(10000);
        continue;
      }
      rb.len = 0;
    }
    struct resp rs;
    double t0 = now_s();
    if (send_all(fd, req.p, req.len) != 0 || read_response(fd, &rb, &rs, head_only) != 0) {
      atomic_fetch_add(&io_errors, 1);
      close(fd);
      fd = -1;
      atomic_fetch_add(&reconnects, 1);
      continue;
    }
    double t1 = now_s();
    if (rs.status > 0 && rs.status < 600) atomic_fetch_add(&status_counts[rs.status], 1);
    atomic_fetch_add(&body_bytes, (long)rs.body_len);
    if (k >= warmup) {
      lat_ms[k - warmup] = (t1 - t0) * 1e3;
      atomic_fetch_add(&done_timed, 1);
    }
    if (out_fp && rs.status >= 200 && rs.status < 300) {
      outl.len = 0;
      expand(&outl, out_tpl, k, rs.loc, rs.status);
      buf_add(&outl, "\n", 1);
      pthread_mutex_lock(&out_mu);
      fwrite(outl.p, 1, outl.len, out_fp);
      pthread_mutex_unlock(&out_mu);
    }
    if (rs.close) {
      atomic_fetch_add(&conn_close_hdr, 1);
      close(fd);
      fd = -1;
      atomic_fetch_add(&reconnects, 1);
    }
  }
  if (fd >= 0) close(fd);
  free(req.p);
  free(tmp.p);
  free(rb.p);
  free(outl.p);
  return NULL;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double pct(const double *v, long n, double p) {
  if (n <= 0) return 0;
  /* nearest-rank */
  long r = (long)((p / 100.0) * n + 0.999999999);
  if (r < 1) r = 1;
  if (r > n) r = n;
  return v[r - 1];
}

static void usage(void) {
  fprintf(stderr,
          "usage: hclient -p PORT [-c CONNS] [-n COUNT] [-w WARMUP] [-s START] [-m METHOD]\n"
          "               -u URL_TEMPLATE [-b BODY_TEMPLATE [-C CONTENT_TYPE]] [-H 'Header: v']... [-i INFILE]\n"
          "               [-o OUTFILE -O OUT_TEMPLATE] [-e EXPECT_STATUS] [-T DEADLINE_S]\n"
          "               [-t REQ_TIMEOUT_S] [-l LABEL]\n");
  exit(2);
}

int main(int argc, char **argv) {
  int opt;
  while ((opt = getopt(argc, argv, "p:c:n:w:s:m:u:b:C:H:i:o:O:e:T:t:l:")) != -1) {
    switch (opt) {
    case 'p': port = atoi(optarg); break;
    case 'c': conns = atoi(optarg); break;
    case 'n': count = atol(optarg); break;
    case 'w': warmup = atol(optarg); break;
    case 's': start_n = atol(optarg); break;
    case 'm': method = optarg; break;
    case 'u': url_tpl = optarg; break;
    case 'b': body_tpl = optarg; break;
    case 'C': content_type = optarg; break;
    case 'H':
      if (nheaders == MAX_HEADERS) die("too many -H");
      headers[nheaders++] = optarg;
      break;
    case 'i': in_path = optarg; break;
    case 'o': out_path = optarg; break;
    case 'O': out_tpl = optarg; break;
    case 'e': expect_status = atoi(optarg); break;
    case 'T': deadline_s = atof(optarg); break;
    case 't': req_timeout_s = atof(optarg); break;
    case 'l': label = optarg; break;
    default: usage();
    }
  }
  if (port <= 0 || port > 65535 || conns < 1 || conns > 1024 || count < 1 || warmup < 0) usage();
  if (out_path && !out_tpl) out_tpl = "{loc}";
  if (in_path) load_input();
  if (out_path) {
    out_fp = fopen(out_path, "w");
    if (!out_fp) die("cannot open output file");
  }
  lat_ms = calloc((size_t)count, sizeof *lat_ms);
  if (!lat_ms) die("out of memory");

  pthread_t *th = calloc((size_t)conns, sizeof *th);
  clock_gettime(CLOCK_MONOTONIC, &t_begin);
  double t0 = now_s();
  for (int i = 0; i < conns; i++) {
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, 256 * 1024);
    if (pthread_create(&th[i], &at, worker, NULL) != 0) die("pthread_create failed");
    pthread_attr_destroy(&at);
  }
  for (int i = 0; i < conns; i++) pthread_join(th[i], NULL);
  double elapsed = now_s() - t0;
  if (out_fp) fclose(out_fp);

  long n = atomic_load(&done_timed);
  /* compact recorded latencies (entries of failed requests are 0 and excluded) */
  long m = 0;
  for (long i = 0; i < count; i++)
    if (lat_ms[i] > 0) lat_ms[m++] = lat_ms[i];
  n = m;
  qsort(lat_ms, (size_t)n, sizeof *lat_ms, cmp_d);
  double sum = 0;
  for (long i = 0; i < n; i++) sum += lat_ms[i];

  long total = 0, ok2xx = 0, unexpected = 0;
  for (int s = 0; s < 600; s++) {
    long c = atomic_load(&status_counts[s]);
    total += c;
    if (s >= 200 && s < 300) ok2xx += c;
    if (expect_status ? s != expect_status : (s < 200 || s >= 300)) unexpected += c;
  }
  printf("{\"label\":\"%s\",\"conns\":%d,\"requested\":%ld,\"warmup\":%ld,\"responses\":%ld,"
         "\"ok_2xx\":%ld,\"unexpected\":%ld,\"expect\":%d,\"io_errors\":%ld,\"reconnects\":%ld,"
         "\"conn_close_hdr\":%ld,\"timed_out\":%s,\"elapsed_s\":%.6f,\"rps\":%.2f,"
         "\"body_bytes_avg\":%.1f,\"lat_n\":%ld,\"mean_ms\":%.4f,\"p50_ms\":%.4f,\"p95_ms\":%.4f,"
         "\"p99_ms\":%.4f,\"max_ms\":%.4f,\"min_ms\":%.4f,\"status\":{",
         label, conns, count, warmup, total, ok2xx, unexpected, expect_status,
         atomic_load(&io_errors), atomic_load(&reconnects), atomic_load(&conn_close_hdr),
         atomic_load(&stop_flag) ? "true" : "false", elapsed, elapsed > 0 ? total / elapsed : 0,
         total ? (double)atomic_load(&body_bytes) / total : 0, n, n ? sum / n : 0, pct(lat_ms, n, 50),
         pct(lat_ms, n, 95), pct(lat_ms, n, 99), n ? lat_ms[n - 1] : 0, n ? lat_ms[0] : 0);
  int first = 1;
  for (int s = 0; s < 600; s++) {
    long c = atomic_load(&status_counts[s]);
    if (c) {
      printf("%s\"%d\":%ld", first ? "" : ",", s, c);
      first = 0;
    }
  }
  printf("}}\n");
  return (unexpected || atomic_load(&io_errors) || atomic_load(&stop_flag)) ? 1 : 0;
}
