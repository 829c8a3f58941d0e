#include "cl_curl.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_auth.h"
#include "cl_url.h"

#define POOL_MAX 16

typedef struct cl_buf {
  char *p;
  size_t n, cap;
} cl_buf;

struct cl_request {
  cl_transport *t;
  CURL *easy;
  struct curl_slist *hdrs;
  char *secret;
  cl_buf body;
  char errbuf[CURL_ERROR_SIZE];
  CURLcode rc;
  long status;
  int finished, reused, sent;
  size_t received, max_body; /* body bytes taken (decoded), and the cap (0: none) */
  int over; /* the body went past max_body: the transfer was stopped */
  size_t hold; /* a streamed 2xx body: pause when this much waits (0: never) */
  int paused; /* paused by on_body until the owner drains the body */
};

struct cl_transport {
  CURLM *multi;
  CURL *pool[POOL_MAX];
  int npool;
  char *user_agent_line, *ca_file; /* "User-Agent: ..." */
  char *proxy; /* NULL: as the environment says */
  int trace;
  int pauses; /* downloads paused (for their owner to drain them) in this step */
  cl_buf tracebuf;
};

static int buf_add(cl_buf *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->n + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
  return 0;
}

static char *dup_or_null(const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

/* The body as libcurl decodes it (gzip, ...): the cap counts decoded bytes, so neither an
 * endless answer nor a compression bomb grows the buffer past it. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *ud) {
  cl_request *r = ud;
  size_t n = size * nmemb;
  if (r->hold && r->body.n >= r->hold) {
    long status = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) {
      /* libcurl keeps this data and hands it over again once the owner has drained */
      r->paused = 1;
      r->t->pauses++;
      return CURL_WRITEFUNC_PAUSE;
    }
  }
  r->received += n;
  if (r->max_body && r->received > r->max_body) {
    r->over = 1;
    return 0; /* stops the transfer (CURLE_WRITE_ERROR) */
  }
  return buf_add(&r->body, data, n) == 0 ? n : 0;
}

static int on_debug(CURL *easy, curl_infotype type, char *data, size_t size, void *ud) {
  static const char *const tags[] = {"* ", "< ", "> "};
  cl_request *r = ud;
  (void)easy;
  if (type > CURLINFO_HEADER_OUT) return 0; /* bodies and TLS data stay out of traces */
  char *clean = malloc(size + 64);
  if (!clean) return 0;
  size_t n = cl_redact(data, size, r->secret, clean, size + 64);
  buf_add(&r->t->tracebuf, tags[type], 2);
  buf_add(&r->t->tracebuf, clean, n);
  if (n == 0 || clean[n - 1] != '\n') buf_add(&r->t->tracebuf, "\n", 1);
  free(clean);
  return 0;
}

cl_transport *cl_transport_new(const cl_transport_opts *opts, cl_error *err) {
  static int global_done;
  if (!global_done) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      cl_error_set(err, CL_ETRANSPORT, 0, "libcurl failed to initialise");
      return NULL;
    }
    global_done = 1;
  }
  cl_transport *t = calloc(1, sizeof *t);
  if (!t || !(t->multi = curl_multi_init())) {
    free(t);
    cl_error_set(err, CL_ETRANSPORT, 0, "out of memory creating the transport");
    return NULL;
  }
  if (opts->user_agent) {
    size_t n = strlen(opts->user_agent) + sizeof "User-Agent: ";
    if (!(t->user_agent_line = malloc(n))) {
      cl_transport_free(t);
      cl_error_set(err, CL_ETRANSPORT, 0, "out of memory creating the transport");
      return NULL;
    }
    snprintf(t->user_agent_line, n, "User-Agent: %s", opts->user_agent);
  }
  t->ca_file = dup_or_null(opts->ca_file);
  t->proxy = dup_or_null(opts->proxy);
  t->trace = opts->trace;
  return t;
}

static void request_release(cl_transport *t, cl_request *r) {
  if (r->easy) {
    curl_multi_remove_handle(t->multi, r->easy);
    /* a handle abandoned while paused still holds data for its write callback: not reused */
    if (t->npool < POOL_MAX && !r->paused)
      t->pool[t->npool++] = r->easy;
    else
      curl_easy_cleanup(r->easy);
  }
  /* The Authorization line and the key are wiped before their memory goes back. */
  for (struct curl_slist *h = r->hdrs; h; h = h->next) memset(h->data, 0, strlen(h->data));
  curl_slist_free_all(r->hdrs);
  if (r->secret) memset(r->secret, 0, strlen(r->secret));
  free(r->secret);
  free(r->body.p);
  free(r);
}

void cl_transport_free(cl_transport *t) {
  if (!t) return;
  for (int i = 0; i < t->npool; i++) curl_easy_cleanup(t->pool[i]);
  curl_multi_cleanup(t->multi);
  free(t->user_agent_line);
  free(t->ca_file);
  free(t->proxy);
  free(t->tracebuf.p);
  free(t);
}

static int add_header(cl_request *r, const char *line) {
  struct curl_slist *l = curl_slist_append(r->hdrs, line);
  if (!l) return -1;
  r->hdrs = l;
  return 0;
}

static int build_headers(cl_request *r, const cl_request_spec *spec) {
  if (spec->api_key) {
    size_t n = strlen(spec->api_key) + sizeof "Authorization: Bearer ";
    char *line = malloc(n);
    if (!line) return -1;
    snprintf(line, n, "Authorization: Bearer %s", spec->api_key);
    int rc = add_header(r, line);
    memset(line, 0, n);
    free(line);
    if (rc) return -1;
  }
  for (const char *const *h = spec->headers; h && *h; h++)
    if (add_header(r, *h)) return -1;
  /* sent as a line of its own: CURLOPT_USERAGENT makes libcurl format it again per request */
  if (r->t->user_agent_line && add_header(r, r->t->user_agent_line)) return -1;
  return add_header(r, "Expect:"); /* no 100-continue round trip */
}

/* The method and body of this request. Every option a previous request of the handle may have
 * set is set again here. */
static void set_method(CURL *e, const cl_request_spec *spec) {
  int get = strcmp(spec->method, "GET") == 0;
  if (get && !spec->body) {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    return;
  }
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)spec->body_len);
  curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, spec->body ? spec->body : "");
  curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST,
                   strcmp(spec->method, "POST") != 0 ? spec->method : NULL);
}

/* What every request of the transport shares, set once when a handle is made (a pooled handle
 * keeps it: no reset and no resetting of options per request). */
static CURL *new_handle(cl_transport *t) {
  CURL *e = curl_easy_init();
  if (!e) return NULL;
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  if (t->ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, t->ca_file);
  if (t->proxy) curl_easy_setopt(e, CURLOPT_PROXY, t->proxy);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  if (t->trace) {
    curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
  }
  return e;
}

/* What is this request's own. */
static void configure(cl_transport *t, cl_request *r, const cl_request_spec *spec) {
  CURL *e = r->easy;
  curl_easy_setopt(e, CURLOPT_URL, spec->url);
  curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, spec->fresh_connect ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(spec->connect_timeout * 1000));
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(spec->timeout * 1000));
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
  curl_easy_setopt(e, CURLOPT_PRIVATE, r);
  if (t->trace) curl_easy_setopt(e, CURLOPT_DEBUGDATA, r);
  set_method(e, spec);
}

cl_request *cl_transport_start(cl_transport *t, const cl_request_spec *spec, cl_error *err) {
  if (cl_url_check_request(spec->url, err)) return NULL;
  cl_request *r = calloc(1, sizeof *r);
  if (!r) {
    cl_error_set(err, CL_ETRANSPORT, 0, "out of memory");
    return NULL;
  }
  r->t = t;
  r->max_body = spec->max_body;
  r->hold = spec->hold_body;
  r->easy = t->npool ? t->pool[--t->npool] : new_handle(t);
  if (!r->easy || build_headers(r, spec) ||
      (spec->api_key && !(r->secret = dup_or_null(spec->api_key)))) {
    request_release(t, r);
    cl_error_set(err, CL_ETRANSPORT, 0, "out of memory");
    return NULL;
  }
  configure(t, r, spec);
  if (curl_multi_add_handle(t->multi, r->easy) != CURLM_OK) {
    request_release(t, r);
    cl_error_set(err, CL_ETRANSPORT, 0, "could not queue the request");
    return NULL;
  }
  return r;
}

static void finish(cl_transport *t, CURL *e, CURLcode rc) {
  cl_request *r = NULL;
  long connects = 0;
  curl_off_t reqsize = 0;
  curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&r);
  if (!r) return;
  r->rc = rc;
  r->finished = 1;
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
  curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &connects);
  curl_easy_getinfo(e, CURLINFO_REQUEST_SIZE, &reqsize);
  r->reused = connects == 0 && rc == CURLE_OK;
  r->sent = reqsize > 0;
  curl_multi_remove_handle(t->multi, e);
}

int cl_transport_step(cl_transport *t, int timeout_ms, cl_error *err) {
  int running = 0, left = 0;
  t->tracebuf.n = 0;
  t->pauses = 0;
  CURLMcode mc = curl_multi_perform(t->multi, &running);
  /* A download that paused just now waits for its owner, not for the network: no sleeping in
   * poll then. (One paused earlier and never drained, its owner gone, does not count.) */
  if (mc == CURLM_OK && running > 0 && timeout_ms > 0 && t->pauses == 0) {
    mc = curl_multi_poll(t->multi, NULL, 0, timeout_ms, NULL);
    if (mc == CURLM_OK) mc = curl_multi_perform(t->multi, &running);
  }
  if (mc != CURLM_OK)
    return cl_error_set(err, CL_ETRANSPORT, (int)mc, "%s", curl_multi_strerror(mc));
  CURLMsg *msg;
  while ((msg = curl_multi_info_read(t->multi, &left)))
    if (msg->msg == CURLMSG_DONE) finish(t, msg->easy_handle, msg->data.result);
  return running;
}

const char *cl_transport_trace(cl_transport *t, size_t *len) {
  *len = t->tracebuf.n;
  return t->tracebuf.p ? t->tracebuf.p : "";
}

void cl_request_free(cl_transport *t, cl_request *r) {
  if (!r) return;
  request_release(t, r);
}

int cl_request_finished(const cl_request *r) {
  return r->finished;
}

static cl_kind kind_of(CURLcode rc) {
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      return CL_ETIMEOUT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      return CL_ETLS;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return CL_ECONFIG;
    default:
      return CL_ETRANSPORT;
  }
}

int cl_request_result(const cl_request *r, long *status, cl_error *err) {
  *status = r->status;
  if (r->rc == CURLE_OK) return 0;
  if (r->over) {
    cl_error_set(err, CL_ETRANSPORT, (int)r->rc,
                 "the answer is larger than %zu bytes (the client's max_body_bytes): stopped",
                 r->max_body);
    err->sent = r->sent;
    return -1;
  }
  cl_error_set(err, kind_of(r->rc), (int)r->rc, "%s",
               r->errbuf[0] ? r->errbuf : curl_easy_strerror(r->rc));
  err->sent = r->sent;
  return -1;
}

const char *cl_request_body(const cl_request *r, size_t *len) {
  *len = r->body.n;
  return r->body.p ? r->body.p : "";
}

void cl_request_body_clear(cl_request *r) {
  r->body.n = 0;
  if (r->body.p) r->body.p[0] = '\0';
  if (r->paused) {
    r->paused = 0;
    curl_easy_pause(r->easy, CURLPAUSE_CONT); /* may call on_body at once with the kept data */
  }
}

long cl_request_status_now(const cl_request *r) {
  long status = 0;
  if (r->finished) return r->status;
  if (r->easy) curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
  return status;
}

int cl_request_header_next(const cl_request *r, struct curl_header **at, const char **name,
                           const char **value, size_t *value_len) {
  /* libcurl keeps the fields of the handle's last transfer until its next one: the handle
   * stays this request's until cl_request_free. */
  struct curl_header *h = *at;
  do {
    h = r->easy ? curl_easy_nextheader(r->easy, CURLH_HEADER, -1, h) : NULL;
  } while (h && !h->name[0]); /* ": value" names nothing */
  *at = h;
  if (!h) return 0;
  /* libcurl 7.88 leaves the CR of an empty value ("Name:\r\n") in it */
  const char *v = h->value, *end = v + strlen(v);
  while (*v == ' ' || *v == '\t') v++;
  while (end > v && strchr(" \t\r\n", end[-1])) end--;
  *name = h->name;
  *value = v;
  *value_len = (size_t)(end - v);
  return 1;
}

int cl_request_reused(const cl_request *r) {
  return r->reused;
}
