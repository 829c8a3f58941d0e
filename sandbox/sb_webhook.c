/* The sandbox's webhook worker: one thread that POSTs legacy `enrichment.completed` payloads to
 * loopback receivers with libcurl (multi interface, several deliveries at once, 10 s timeout by
 * default), so the MHD thread never blocks on a receiver. The Lua side (sandbox.webhooks)
 * decides what to send and when (retries and backoff follow the sandbox clock); this file only
 * moves bytes:
 *
 *   Lua (MHD or timer thread)           worker thread
 *   post{id,url,body,...} --queue-->    curl_multi: deliver, 10 s timeout
 *   drain()               <--results--  {id, status, error, ms}, and on_result(): the sandbox
 *                                       asks its timer for a tick, whose Lua drains them
 *
 * Deliveries go to loopback addresses only (checked again here, after the Lua check): no
 * redirects, no proxy, http/https only. The thread starts at first use and is joined by
 * sb_webhook_free (from cl_sandbox_stop), which aborts transfers still running. This file is
 * the queue and the thread; sb_webhook_lua.c is the Lua module over its sb_wh_* calls. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cl_clock.h"
#include "cl_url.h"
#include "sb_internal.h"

#define SB_WH_DEFAULT_TIMEOUT_MS 10000L
#define SB_WH_MAX_TIMEOUT_MS 60000L
#define SB_WH_MAX_QUEUE 4096 /* jobs waiting or running; post refuses more */
#define SB_WH_USER_AGENT "Cleanlist-Webhooks/1.0 (sandbox)"

struct sb_wh_job {
  struct sb_wh_job *next; /* queue or active list */
  char *id; /* the delivery id Lua gave */
  char *url;
  char *body;
  size_t body_len;
  struct curl_slist *headers;
  long timeout_ms;
  CURL *easy;
  double started_ms;
  char errbuf[CURL_ERROR_SIZE];
};

struct sb_webhook {
  pthread_mutex_t mu;
  pthread_t thread;
  int started, stop, curl_ready;
  CURLM *multi; /* created with the thread; used by the worker only */
  sb_wh_job *queue, *queue_tail; /* posted, not yet picked up by the worker */
  sb_wh_job *active; /* worker only: transfers in the multi handle */
  sb_wh_result *results, *results_tail;
  unsigned long pending; /* queued + running deliveries */
  unsigned long ready; /* results not drained yet */
  unsigned long delivered, failed; /* totals, for stats() */
  void (*on_result)(void *); /* called (unlocked) when a result is ready */
  void *on_result_cls;
};

static double sb_wh_now(void) {
  return (double)cl_monotonic_ns() / 1e6;
}

static char *sb_wh_dup(const char *s, size_t n) {
  char *d = malloc(n + 1);
  if (d != NULL) {
    memcpy(d, s, n);
    d[n] = '\0';
  }
  return d;
}

void sb_wh_job_free(sb_wh_job *j) {
  if (j == NULL) return;
  if (j->easy != NULL) curl_easy_cleanup(j->easy);
  curl_slist_free_all(j->headers);
  free(j->id);
  free(j->url);
  free(j->body);
  free(j);
}

sb_webhook *sb_webhook_new(void (*on_result)(void *), void *cls) {
  sb_webhook *w = calloc(1, sizeof *w);
  if (w == NULL) return NULL;
  if (pthread_mutex_init(&w->mu, NULL) != 0) {
    free(w);
    return NULL;
  }
  w->curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  w->on_result = on_result;
  w->on_result_cls = cls;
  return w;
}

/* ---- worker thread ------------------------------------------------------------------- */

static size_t sb_wh_discard(char *ptr, size_t size, size_t nmemb, void *userdata) {
  (void)ptr;
  (void)userdata;
  return size * nmemb;
}

/* 1 when url is http(s) to a loopback host literal or "localhost". */
static int sb_wh_loopback_url(const char *url) {
  CURLU *u = curl_url();
  char *scheme = NULL, *host = NULL;
  int ok = 0;
  if (u == NULL) return 0;
  if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
      (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0)) {
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
      char *pct;
      host[n - 1] = '\0';
      pct = strchr(host + 1, '%'); /* a zone id */
      if (pct != NULL) *pct = '\0';
      ok = cl_host_is_loopback(host + 1);
    } else {
      ok = cl_host_is_loopback(host);
    }
  }
  curl_free(scheme);
  curl_free(host);
  curl_url_cleanup(u);
  return ok;
}

/* Called with the lock held. */
static void sb_wh_push_result(sb_webhook *w, sb_wh_job *j, long status, const char *error) {
  sb_wh_result *r;
  if (w->pending > 0) w->pending--;
  if (error != NULL && *error)
    w->failed++;
  else
    w->delivered++;
  r = calloc(1, sizeof *r);
  if (r == NULL) return; /* out of memory: the Lua side re-sends deliveries it never hears about */
  r->id = j->id;
  j->id = NULL;
  r->status = status;
  snprintf(r->error, sizeof r->error, "%s", error ? error : "");
  r->ms = sb_wh_now() - j->started_ms;
  if (r->ms < 0) r->ms = 0;
  if (w->results_tail)
    w->results_tail->next = r;
  else
    w->results = r;
  w->results_tail = r;
  w->ready++;
}

static void sb_wh_finish(sb_webhook *w, sb_wh_job *j, long status, const char *error) {
  pthread_mutex_lock(&w->mu);
  sb_wh_push_result(w, j, status, error);
  pthread_mutex_unlock(&w->mu);
  sb_wh_job_free(j);
  if (w->on_result != NULL)
    w->on_result(w->on_result_cls); /* so that the Lua side takes the result soon */
}

/* Creates the easy handle and adds it to the multi handle; on failure reports the job. */
static void sb_wh_start_job(sb_webhook *w, sb_wh_job *j) {
  CURL *e;
  if (!sb_wh_loopback_url(j->url)) {
    sb_wh_finish(w, j, 0, "refused: the sandbox delivers webhooks to loopback addresses only");
    return;
  }
  e = curl_easy_init();
  if (e == NULL) {
    sb_wh_finish(w, j, 0, "out of memory");
    return;
  }
  j->easy = e;
  j->errbuf[0] = '\0';
  j->headers = curl_slist_append(j->headers, "Expect:");
  curl_easy_setopt(e, CURLOPT_URL, j->url);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->body ? j->body : "");
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->body_len);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->headers);
  curl_easy_setopt(e, CURLOPT_USERAGENT, SB_WH_USER_AGENT);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, j->timeout_ms);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, j->timeout_ms < 5000 ? j->timeout_ms : 5000L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
  /* Loopback only, and receivers (the sandbox's own sink too) use throw-away certificates. */
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sb_wh_discard);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->errbuf);
  curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)j);
  j->started_ms = sb_wh_now();
  if (curl_multi_add_handle(w->multi, e) != CURLM_OK) {
    sb_wh_finish(w, j, 0, "could not start the transfer");
    return;
  }
  j->next = w->active;
  w->active = j;
}

static void sb_wh_unlink(sb_webhook *w, sb_wh_job *j) {
  sb_wh_job **p;
  for (p = &w->active; *p != NULL; p = &(*p)->next) {
    if (*p == j) {
      *p = j->next;
      return;
    }
  }
}

/* Takes finished transfers; returns how many there were. */
static int sb_wh_collect(sb_webhook *w) {
  CURLMsg *msg;
  int left, n = 0;
  while ((msg = curl_multi_info_read(w->multi, &left)) != NULL) {
    sb_wh_job *j;
    char *priv = NULL;
    long status = 0;
    char error[256];
    if (msg->msg != CURLMSG_DONE) continue;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
    j = (sb_wh_job *)(void *)priv;
    if (j == NULL) continue;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
    error[0] = '\0';
    if (msg->data.result != CURLE_OK)
      snprintf(error, sizeof error, "%s",
               j->errbuf[0] ? j->errbuf : curl_easy_strerror(msg->data.result));
    curl_multi_remove_handle(w->multi, msg->easy_handle);
    sb_wh_unlink(w, j);
    sb_wh_finish(w, j, status, error);
    n++;
  }
  return n;
}

static void *sb_wh_run(void *arg) {
  sb_webhook *w = arg;
  for (;;) {
    sb_wh_job *fresh;
    long wait_ms = 1000, curl_ms = -1;
    int running = 0;
    pthread_mutex_lock(&w->mu);
    if (w->stop) {
      pthread_mutex_unlock(&w->mu);
      break;
    }
    fresh = w->queue;
    w->queue = w->queue_tail = NULL;
    pthread_mutex_unlock(&w->mu);
    while (fresh != NULL) {
      sb_wh_job *next = fresh->next;
      fresh->next = NULL;
      sb_wh_start_job(w, fresh);
      fresh = next;
    }
    curl_multi_perform(w->multi, &running);
    if (sb_wh_collect(w) > 0)
      continue; /* transfers ended: start what was queued meanwhile before waiting */
    if (curl_multi_timeout(w->multi, &curl_ms) == CURLM_OK && curl_ms >= 0 && curl_ms < wait_ms)
      wait_ms = curl_ms;
    if (wait_ms > 0) curl_multi_poll(w->multi, NULL, 0, (int)wait_ms, NULL);
  }
  while (w->active != NULL) {
    sb_wh_job *j = w->active;
    w->active = j->next;
    curl_multi_remove_handle(w->multi, j->easy);
    sb_wh_job_free(j);
  }
  return NULL;
}

/* Starts the thread at first use; called with the lock held. 0 on success. */
static int sb_wh_ensure_started(sb_webhook *w) {
  sigset_t all, old;
  int rc;
  if (w->started) return 0;
  if (!w->curl_ready) return -1;
  w->multi = curl_multi_init();
  if (w->multi == NULL) return -1;
  /* The worker takes no signals: the process's stop signals belong to sb_main's pselect. */
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  rc = pthread_create(&w->thread, NULL, sb_wh_run, w);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    curl_multi_cleanup(w->multi);
    w->multi = NULL;
    return -1;
  }
  w->started = 1;
  return 0;
}

static void sb_wh_wake(sb_webhook *w) {
  if (w->started && w->multi != NULL) curl_multi_wakeup(w->multi);
}

void sb_webhook_free(sb_webhook *w) {
  sb_wh_job *j;
  sb_wh_result *r;
  if (w == NULL) return;
  pthread_mutex_lock(&w->mu);
  w->stop = 1;
  sb_wh_wake(w);
  pthread_mutex_unlock(&w->mu);
  if (w->started) pthread_join(w->thread, NULL);
  if (w->multi != NULL) curl_multi_cleanup(w->multi);
  while ((j = w->queue) != NULL) {
    w->queue = j->next;
    sb_wh_job_free(j);
  }
  while ((r = w->results) != NULL) {
    w->results = r->next;
    sb_wh_result_free(r);
  }
  if (w->curl_ready) curl_global_cleanup();
  pthread_mutex_destroy(&w->mu);
  free(w);
}

/* ---- the calls behind the Lua module (sb_webhook_lua.c) ------------------------------ */

int sb_wh_available(const sb_webhook *w) {
  return w != NULL && w->curl_ready;
}

sb_wh_job *sb_wh_job_new(const char *id, size_t id_len, const char *url, size_t url_len,
                         const char *body, size_t body_len, long timeout_ms) {
  sb_wh_job *j = calloc(1, sizeof *j);
  if (j == NULL) return NULL;
  j->id = id ? sb_wh_dup(id, id_len) : NULL;
  j->url = url ? sb_wh_dup(url, url_len) : NULL;
  j->body = sb_wh_dup(body ? body : "", body ? body_len : 0);
  j->body_len = body ? body_len : 0;
  j->timeout_ms = timeout_ms;
  if (j->timeout_ms < 1 || j->timeout_ms > SB_WH_MAX_TIMEOUT_MS)
    j->timeout_ms = SB_WH_DEFAULT_TIMEOUT_MS;
  return j;
}

void sb_wh_job_add_header(sb_wh_job *j, const char *line) {
  struct curl_slist *l = curl_slist_append(j->headers, line);
  if (l != NULL) j->headers = l;
}

int sb_wh_job_complete(const sb_wh_job *j) {
  return j->id != NULL && j->url != NULL && j->body != NULL;
}

const char *sb_wh_post(sb_webhook *w, sb_wh_job *j) {
  const char *err = NULL;
  pthread_mutex_lock(&w->mu);
  if (w->pending >= SB_WH_MAX_QUEUE) {
    err = "too many webhook deliveries in flight";
  } else if (w->stop || sb_wh_ensure_started(w) != 0) {
    err = "the webhook worker could not start";
  } else {
    if (w->queue_tail)
      w->queue_tail->next = j;
    else
      w->queue = j;
    w->queue_tail = j;
    w->pending++;
    sb_wh_wake(w);
  }
  pthread_mutex_unlock(&w->mu);
  if (err != NULL) sb_wh_job_free(j);
  return err;
}

sb_wh_result *sb_wh_take_results(sb_webhook *w) {
  sb_wh_result *list;
  pthread_mutex_lock(&w->mu);
  list = w->results;
  w->results = w->results_tail = NULL;
  w->ready = 0;
  pthread_mutex_unlock(&w->mu);
  return list;
}

void sb_wh_result_free(sb_wh_result *r) {
  free(r->id);
  free(r);
}

unsigned long sb_wh_busy(sb_webhook *w) {
  unsigned long n;
  pthread_mutex_lock(&w->mu);
  n = w->pending + w->ready;
  pthread_mutex_unlock(&w->mu);
  return n;
}

void sb_wh_get_stats(sb_webhook *w, sb_wh_stats *st) {
  pthread_mutex_lock(&w->mu);
  st->pending = w->pending;
  st->ready = w->ready;
  st->delivered = w->delivered;
  st->failed = w->failed;
  st->started = w->started;
  pthread_mutex_unlock(&w->mu);
}
