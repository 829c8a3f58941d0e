/* The sandbox's webhook worker: one thread that POSTs legacy `enrichment.completed` payloads to
 * loopback receivers with libcurl (multi interface, several deliveries at once, 10 s timeout by
 * default), so the MHD thread never blocks on a receiver. The Lua side (sandbox.webhooks)
 * decides what to send and when (retries and backoff follow the sandbox clock); this file only
 * moves bytes:
 *
 *   MHD thread (Lua)                    worker thread
 *   post{id,url,body,...} --queue-->    curl_multi: deliver, 10 s timeout
 *   drain()               <--results--  {id, status, error, ms}
 *   ticks(ms)             ----------->  while ticks are wanted: POST <self>/__sandbox/tick every
 *                                       `ms` real milliseconds, so lazy progress (completion,
 *                                       due retries) also happens when no client calls.
 *
 * Deliveries go to loopback addresses only (checked again here, after the Lua check): no
 * redirects, no proxy, http/https only. The thread starts at first use and is joined by
 * sb_webhook_free (from cl_sandbox_stop), which aborts transfers still running. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "lauxlib.h"
#include "lua.h"
#include "sb_internal.h"

#define SB_WH_REGISTRY "sandbox.webhook_worker"
#define SB_WH_DEFAULT_TIMEOUT_MS 10000L
#define SB_WH_MAX_TIMEOUT_MS 60000L
#define SB_WH_MAX_QUEUE 4096 /* jobs waiting or running; post refuses more */
#define SB_WH_USER_AGENT "Cleanlist-Webhooks/1.0 (sandbox)"

typedef struct sb_job {
  struct sb_job *next; /* queue or active list */
  char *id;            /* the delivery id Lua gave (NULL for a tick) */
  char *url;
  char *body;
  size_t body_len;
  struct curl_slist *headers;
  long timeout_ms;
  int tick;
  CURL *easy;
  double started_ms;
  char errbuf[CURL_ERROR_SIZE];
} sb_job;

typedef struct sb_result {
  struct sb_result *next;
  char *id;
  long status;     /* HTTP status; 0 when no response came */
  char error[256]; /* "" when the receiver answered (whatever the status) */
  double ms;       /* real duration */
} sb_result;

struct sb_webhook {
  pthread_mutex_t mu;
  pthread_t thread;
  int started, stop, curl_ready;
  CURLM *multi;                   /* created with the thread; used by the worker only */
  sb_job *queue, *queue_tail;     /* posted, not yet picked up by the worker */
  sb_job *active;                 /* worker only: transfers in the multi handle */
  sb_result *results, *results_tail;
  unsigned long pending;          /* queued + running deliveries (not ticks) */
  unsigned long ready;            /* results not drained yet */
  unsigned long delivered, failed; /* totals, for stats() */
  char *tick_url;
  long tick_ms; /* 0 = no ticks */
  int tick_busy;
  double next_tick_ms;
};

static double sb_wh_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static char *sb_wh_dup(const char *s, size_t n) {
  char *d = malloc(n + 1);
  if (d != NULL) {
    memcpy(d, s, n);
    d[n] = '\0';
  }
  return d;
}

static void sb_job_free(sb_job *j) {
  if (j == NULL)
    return;
  if (j->easy != NULL)
    curl_easy_cleanup(j->easy);
  curl_slist_free_all(j->headers);
  free(j->id);
  free(j->url);
  free(j->body);
  free(j);
}

sb_webhook *sb_webhook_new(void) {
  sb_webhook *w = calloc(1, sizeof *w);
  if (w == NULL)
    return NULL;
  if (pthread_mutex_init(&w->mu, NULL) != 0) {
    free(w);
    return NULL;
  }
  w->curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  return w;
}

void sb_webhook_set_self(sb_webhook *w, const char *bind, unsigned port, int tls) {
  char url[160], *copy;
  const char *host = bind ? bind : "127.0.0.1";
  int v6;
  if (w == NULL)
    return;
  if (strcmp(host, "localhost") == 0)
    host = "127.0.0.1";
  v6 = strchr(host, ':') != NULL;
  snprintf(url, sizeof url, "%s://%s%s%s:%u/__sandbox/tick", tls ? "https" : "http",
           v6 ? "[" : "", host, v6 ? "]" : "", port);
  copy = sb_wh_dup(url, strlen(url));
  pthread_mutex_lock(&w->mu);
  free(w->tick_url);
  w->tick_url = copy;
  pthread_mutex_unlock(&w->mu);
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
  if (u == NULL)
    return 0;
  if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
      (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0)) {
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
      char *pct;
      host[n - 1] = '\0';
      pct = strchr(host + 1, '%'); /* a zone id */
      if (pct != NULL)
        *pct = '\0';
      ok = sb_is_loopback(host + 1);
    } else {
      ok = sb_is_loopback(host);
    }
  }
  curl_free(scheme);
  curl_free(host);
  curl_url_cleanup(u);
  return ok;
}

/* Called with the lock held. */
static void sb_wh_push_result(sb_webhook *w, sb_job *j, long status, const char *error) {
  sb_result *r;
  if (j->tick) {
    w->tick_busy = 0;
    return;
  }
  if (w->pending > 0)
    w->pending--;
  w->next_tick_ms = 0; /* tick at once, so that the Lua side takes the result soon */
  if (error != NULL && *error)
    w->failed++;
  else
    w->delivered++;
  r = calloc(1, sizeof *r);
  if (r == NULL)
    return; /* out of memory: the Lua side re-sends deliveries it never hears about */
  r->id = j->id;
  j->id = NULL;
  r->status = status;
  snprintf(r->error, sizeof r->error, "%s", error ? error : "");
  r->ms = sb_wh_now() - j->started_ms;
  if (r->ms < 0)
    r->ms = 0;
  if (w->results_tail)
    w->results_tail->next = r;
  else
    w->results = r;
  w->results_tail = r;
  w->ready++;
}

static void sb_wh_finish(sb_webhook *w, sb_job *j, long status, const char *error) {
  pthread_mutex_lock(&w->mu);
  sb_wh_push_result(w, j, status, error);
  pthread_mutex_unlock(&w->mu);
  sb_job_free(j);
}

/* Creates the easy handle and adds it to the multi handle; on failure reports the job. */
static void sb_wh_start_job(sb_webhook *w, sb_job *j) {
  CURL *e;
  if (!j->tick && !sb_wh_loopback_url(j->url)) {
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
  /* Loopback only, and receivers (or the sandbox itself) use throw-away certificates. */
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

static void sb_wh_unlink(sb_webhook *w, sb_job *j) {
  sb_job **p;
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
    sb_job *j;
    char *priv = NULL;
    long status = 0;
    char error[256];
    if (msg->msg != CURLMSG_DONE)
      continue;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
    j = (sb_job *)(void *)priv;
    if (j == NULL)
      continue;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
    error[0] = '\0';
    if (msg->data.result != CURLE_OK)
      snprintf(error, sizeof error, "%s", j->errbuf[0] ? j->errbuf
                                                       : curl_easy_strerror(msg->data.result));
    curl_multi_remove_handle(w->multi, msg->easy_handle);
    sb_wh_unlink(w, j);
    sb_wh_finish(w, j, status, error);
    n++;
  }
  return n;
}

/* Builds the next self-tick job; called with the lock held. */
static sb_job *sb_wh_tick_job(sb_webhook *w, double now) {
  sb_job *j;
  if (w->tick_ms <= 0 || w->tick_url == NULL || w->tick_busy || now < w->next_tick_ms)
    return NULL;
  j = calloc(1, sizeof *j);
  if (j == NULL || (j->url = sb_wh_dup(w->tick_url, strlen(w->tick_url))) == NULL) {
    free(j);
    return NULL;
  }
  j->tick = 1;
  j->timeout_ms = 5000;
  w->tick_busy = 1;
  w->next_tick_ms = now + (double)w->tick_ms;
  return j;
}

static void *sb_wh_run(void *arg) {
  sb_webhook *w = arg;
  for (;;) {
    sb_job *fresh, *tick;
    double now;
    long wait_ms = 1000, curl_ms = -1;
    int running = 0;
    pthread_mutex_lock(&w->mu);
    if (w->stop) {
      pthread_mutex_unlock(&w->mu);
      break;
    }
    fresh = w->queue;
    w->queue = w->queue_tail = NULL;
    now = sb_wh_now();
    tick = sb_wh_tick_job(w, now);
    if (w->tick_ms > 0 && w->tick_url != NULL && !w->tick_busy && !tick) {
      double d = w->next_tick_ms - now;
      if (d < (double)wait_ms)
        wait_ms = d < 1 ? 1 : (long)d;
    }
    pthread_mutex_unlock(&w->mu);
    while (fresh != NULL) {
      sb_job *next = fresh->next;
      fresh->next = NULL;
      sb_wh_start_job(w, fresh);
      fresh = next;
    }
    if (tick != NULL)
      sb_wh_start_job(w, tick);
    curl_multi_perform(w->multi, &running);
    if (sb_wh_collect(w) > 0)
      continue; /* a result is ready: tick (if wanted) before waiting again */
    if (curl_multi_timeout(w->multi, &curl_ms) == CURLM_OK && curl_ms >= 0 && curl_ms < wait_ms)
      wait_ms = curl_ms;
    if (wait_ms > 0)
      curl_multi_poll(w->multi, NULL, 0, (int)wait_ms, NULL);
  }
  while (w->active != NULL) {
    sb_job *j = w->active;
    w->active = j->next;
    curl_multi_remove_handle(w->multi, j->easy);
    sb_job_free(j);
  }
  return NULL;
}

/* Starts the thread at first use; called with the lock held. 0 on success. */
static int sb_wh_ensure_started(sb_webhook *w) {
  sigset_t all, old;
  int rc;
  if (w->started)
    return 0;
  if (!w->curl_ready)
    return -1;
  w->multi = curl_multi_init();
  if (w->multi == NULL)
    return -1;
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
  if (w->started && w->multi != NULL)
    curl_multi_wakeup(w->multi);
}

void sb_webhook_free(sb_webhook *w) {
  sb_job *j;
  sb_result *r;
  if (w == NULL)
    return;
  pthread_mutex_lock(&w->mu);
  w->stop = 1;
  sb_wh_wake(w);
  pthread_mutex_unlock(&w->mu);
  if (w->started)
    pthread_join(w->thread, NULL);
  if (w->multi != NULL)
    curl_multi_cleanup(w->multi);
  while ((j = w->queue) != NULL) {
    w->queue = j->next;
    sb_job_free(j);
  }
  while ((r = w->results) != NULL) {
    w->results = r->next;
    free(r->id);
    free(r);
  }
  free(w->tick_url);
  if (w->curl_ready)
    curl_global_cleanup();
  pthread_mutex_destroy(&w->mu);
  free(w);
}

/* ---- Lua module sandbox.webhook_worker ----------------------------------------------- */

static sb_webhook *sb_wh_of(lua_State *L) {
  sb_webhook *w;
  lua_getfield(L, LUA_REGISTRYINDEX, SB_WH_REGISTRY);
  w = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return w;
}

void sb_webhook_attach(struct lua_State *L, sb_webhook *w) {
  lua_pushlightuserdata(L, (void *)w);
  lua_setfield(L, LUA_REGISTRYINDEX, SB_WH_REGISTRY);
}

/// worker.available() -> true when a worker is attached (a real sandbox, not plain Lua)
static int sb_wh_available(lua_State *L) {
  sb_webhook *w = sb_wh_of(L);
  lua_pushboolean(L, w != NULL && w->curl_ready);
  return 1;
}

static int sb_wh_fail(lua_State *L, const char *msg) {
  lua_pushnil(L);
  lua_pushstring(L, msg);
  return 2;
}

/// worker.post{id=, url=, body=, headers={"Name: value", ...}, timeout_ms=} -> true | nil, err
static int sb_wh_post(lua_State *L) {
  sb_webhook *w = sb_wh_of(L);
  sb_job *j;
  size_t n, blen = 0;
  const char *s, *body;
  int i, count, rc;
  luaL_checktype(L, 1, LUA_TTABLE);
  if (w == NULL)
    return sb_wh_fail(L, "no webhook worker in this sandbox");
  j = calloc(1, sizeof *j);
  if (j == NULL)
    return sb_wh_fail(L, "out of memory");
  lua_getfield(L, 1, "id");
  s = lua_tolstring(L, -1, &n);
  j->id = s ? sb_wh_dup(s, n) : NULL;
  lua_getfield(L, 1, "url");
  s = lua_tolstring(L, -1, &n);
  j->url = s ? sb_wh_dup(s, n) : NULL;
  lua_getfield(L, 1, "body");
  body = lua_tolstring(L, -1, &blen);
  j->body = sb_wh_dup(body ? body : "", body ? blen : 0);
  j->body_len = body ? blen : 0;
  lua_getfield(L, 1, "timeout_ms");
  j->timeout_ms = lua_isnumber(L, -1) ? (long)lua_tonumber(L, -1) : SB_WH_DEFAULT_TIMEOUT_MS;
  if (j->timeout_ms < 1 || j->timeout_ms > SB_WH_MAX_TIMEOUT_MS)
    j->timeout_ms = SB_WH_DEFAULT_TIMEOUT_MS;
  lua_pop(L, 4);
  lua_getfield(L, 1, "headers");
  if (lua_type(L, -1) == LUA_TTABLE) {
#if LUA_VERSION_NUM >= 502
    count = (int)lua_rawlen(L, -1);
#else
    count = (int)lua_objlen(L, -1);
#endif
    for (i = 1; i <= count; i++) {
      struct curl_slist *l;
      lua_rawgeti(L, -1, i);
      s = lua_tostring(L, -1);
      l = s ? curl_slist_append(j->headers, s) : j->headers;
      if (l != NULL)
        j->headers = l;
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  if (j->id == NULL || j->url == NULL || j->body == NULL) {
    sb_job_free(j);
    return sb_wh_fail(L, "post needs id, url and body strings");
  }
  pthread_mutex_lock(&w->mu);
  if (w->pending >= SB_WH_MAX_QUEUE) {
    pthread_mutex_unlock(&w->mu);
    sb_job_free(j);
    return sb_wh_fail(L, "too many webhook deliveries in flight");
  }
  rc = w->stop ? -1 : sb_wh_ensure_started(w);
  if (rc != 0) {
    pthread_mutex_unlock(&w->mu);
    sb_job_free(j);
    return sb_wh_fail(L, "the webhook worker could not start");
  }
  if (w->queue_tail)
    w->queue_tail->next = j;
  else
    w->queue = j;
  w->queue_tail = j;
  w->pending++;
  sb_wh_wake(w);
  pthread_mutex_unlock(&w->mu);
  lua_pushboolean(L, 1);
  return 1;
}

/// worker.drain() -> array of {id, status, error (nil when answered), ms}, or nil when none
static int sb_wh_drain(lua_State *L) {
  sb_webhook *w = sb_wh_of(L);
  sb_result *r, *list;
  int i = 0;
  if (w == NULL)
    return 0;
  pthread_mutex_lock(&w->mu);
  list = w->results;
  w->results = w->results_tail = NULL;
  w->ready = 0;
  pthread_mutex_unlock(&w->mu);
  if (list == NULL)
    return 0;
  lua_newtable(L);
  while ((r = list) != NULL) {
    list = r->next;
    lua_createtable(L, 0, 4);
    lua_pushstring(L, r->id ? r->id : "");
    lua_setfield(L, -2, "id");
    lua_pushinteger(L, (lua_Integer)r->status);
    lua_setfield(L, -2, "status");
    if (r->error[0]) {
      lua_pushstring(L, r->error);
      lua_setfield(L, -2, "error");
    }
    lua_pushinteger(L, (lua_Integer)r->ms);
    lua_setfield(L, -2, "ms");
    lua_rawseti(L, -2, ++i);
    free(r->id);
    free(r);
  }
  return 1;
}

/// worker.busy() -> deliveries queued or running + results not drained yet
static int sb_wh_busy(lua_State *L) {
  sb_webhook *w = sb_wh_of(L);
  unsigned long n = 0;
  if (w != NULL) {
    pthread_mutex_lock(&w->mu);
    n = w->pending + w->ready;
    pthread_mutex_unlock(&w->mu);
  }
  lua_pushinteger(L, (lua_Integer)n);
  return 1;
}

/// worker.ticks(ms) -> previous interval: while ms > 0 the worker POSTs <self>/__sandbox/tick
/// every ms real milliseconds (0 stops the ticks). Returns false when there is no worker.
static int sb_wh_ticks(lua_State *L) {
  sb_webhook *w = sb_wh_of(L);
  long ms = (long)luaL_checknumber(L, 1), prev;
  if (w == NULL) {
    lua_pushboolean(L, 0);
    return 1;
  }
  if (ms < 0)
    ms = 0;
  if (ms > 0 && ms < 10)
    ms = 10;
  pthread_mutex_lock(&w->mu);
  prev = w->tick_ms;
  if (ms > 0 && !w->stop && sb_wh_ensure_started(w) != 0)
    ms = 0;
  w->tick_ms = ms;
  if (ms > 0) { /* a shorter interval takes effect now, not after the current one */
    double at = sb_wh_now() + (double)ms;
    if (prev == 0 || at < w->next_tick_ms)
      w->next_tick_ms = at;
  }
  if (ms != prev)
    sb_wh_wake(w);
  pthread_mutex_unlock(&w->mu);
  lua_pushinteger(L, (lua_Integer)prev);
  return 1;
}

/// worker.stats() -> {pending, ready, delivered, failed, ticks, started}
static int sb_wh_stats(lua_State *L) {
  sb_webhook *w = sb_wh_of(L);
  lua_createtable(L, 0, 6);
  if (w == NULL)
    return 1;
  pthread_mutex_lock(&w->mu);
  lua_pushinteger(L, (lua_Integer)w->pending);
  lua_setfield(L, -2, "pending");
  lua_pushinteger(L, (lua_Integer)w->ready);
  lua_setfield(L, -2, "ready");
  lua_pushinteger(L, (lua_Integer)w->delivered);
  lua_setfield(L, -2, "answered");
  lua_pushinteger(L, (lua_Integer)w->failed);
  lua_setfield(L, -2, "failed");
  lua_pushinteger(L, (lua_Integer)w->tick_ms);
  lua_setfield(L, -2, "tick_ms");
  lua_pushboolean(L, w->started);
  lua_setfield(L, -2, "started");
  pthread_mutex_unlock(&w->mu);
  return 1;
}

int sb_open_webhook(lua_State *L) {
  static const luaL_Reg funcs[] = {{"available", sb_wh_available},
                                   {"post", sb_wh_post},
                                   {"drain", sb_wh_drain},
                                   {"busy", sb_wh_busy},
                                   {"ticks", sb_wh_ticks},
                                   {"stats", sb_wh_stats},
                                   {NULL, NULL}};
  const luaL_Reg *f;
  lua_newtable(L);
  for (f = funcs; f->name; f++) {
    lua_pushcfunction(L, f->func);
    lua_setfield(L, -2, f->name);
  }
  return 1;
}
