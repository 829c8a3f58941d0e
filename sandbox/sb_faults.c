/* Connection-level faults of the sandbox and the timer thread behind them.
 *
 * The Lua app decides which fault a request gets (sandbox/lua/sandbox/faults.lua) and returns
 * it as a fourth result; sb_lua.c turns it into an sb_fault, and this file carries it out:
 *   reset           RST before any response byte (SO_LINGER 0 + disconnect)
 *   reset_mid_body  headers and `bytes` of the body, a short pause, then RST
 *   partial         headers and `bytes` of the body, a short pause, then an orderly close
 *   dribble         the whole body, `chunk` bytes every `ms` milliseconds
 *   stall           nothing for `ms` milliseconds, then the answer (or a close)
 * A stall or a pause never blocks the MHD thread: the connection is suspended
 * (MHD_suspend_connection) and the timer thread below resumes it when its time comes, so
 * every other connection keeps being served meanwhile.
 *
 * The timer thread is also the sandbox's one periodic driver: it calls the tick (app:tick(),
 * under the lock that sb_lua.c holds around every Lua call) when the time asked for with
 * sb_timer_tick_in comes. The app asks for its next tick itself (the legacy API's background
 * progress and webhook deliveries, the --state saves), and the webhook worker asks for one at
 * once when a delivery's result is ready. Nobody asking, the thread sleeps. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "cl_clock.h"
#include "sb_internal.h"

/* Pause after the last byte of a partial body, so that it reaches the client before the drop. */
#define SB_DROP_PAUSE_MS 50u
/* How long sb_timer_stop waits for suspended connections to be taken back by MHD. */
#define SB_DRAIN_MS 2000u

typedef struct sb_wake {
  struct MHD_Connection *conn;
  uint64_t due_ms;
} sb_wake;

struct sb_timer {
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int started, stopping;
  sb_wake *wakes;
  size_t n, cap;
  unsigned suspended; /* suspended by us and not yet running again */
  void (*tick)(void *);
  void *tick_cls;
  uint64_t next_tick; /* UINT64_MAX: no tick asked for */
};

static void sb_deadline(struct timespec *ts, uint64_t due_ms) {
  ts->tv_sec = (time_t)(due_ms / 1000u);
  ts->tv_nsec = (long)(due_ms % 1000u) * 1000000L;
}

static void *sb_timer_main(void *arg) {
  sb_timer *t = arg;
  sb_wake due[16];
  pthread_mutex_lock(&t->mu);
  while (!t->stopping) {
    uint64_t now = cl_monotonic_ms(), next = UINT64_MAX;
    size_t i = 0, k = 0;
    int tick = 0;
    while (i < t->n) {
      if (t->wakes[i].due_ms <= now && k < sizeof due / sizeof *due) {
        due[k++] = t->wakes[i];
        t->wakes[i] = t->wakes[--t->n];
        continue;
      }
      if (t->wakes[i].due_ms < next) next = t->wakes[i].due_ms;
      i++;
    }
    if (t->tick && t->next_tick <= now) {
      tick = 1;
      t->next_tick = UINT64_MAX; /* the tick asks again for what it still needs */
    }
    if (t->tick && t->next_tick < next) next = t->next_tick;
    if (k || tick) {
      pthread_mutex_unlock(&t->mu);
      for (i = 0; i < k; i++) MHD_resume_connection(due[i].conn);
      if (tick) t->tick(t->tick_cls);
      pthread_mutex_lock(&t->mu);
      continue;
    }
    if (next == UINT64_MAX) {
      pthread_cond_wait(&t->cv, &t->mu);
    } else {
      struct timespec ts;
      sb_deadline(&ts, next);
      pthread_cond_timedwait(&t->cv, &t->mu, &ts);
    }
  }
  pthread_mutex_unlock(&t->mu);
  return NULL;
}

sb_timer *sb_timer_start(void (*tick)(void *), void *tick_cls) {
  sb_timer *t = calloc(1, sizeof *t);
  pthread_condattr_t attr;
  if (t == NULL) return NULL;
  pthread_mutex_init(&t->mu, NULL);
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&t->cv, &attr);
  pthread_condattr_destroy(&attr);
  t->tick = tick;
  t->tick_cls = tick_cls;
  t->next_tick = UINT64_MAX;
  if (pthread_create(&t->thread, NULL, sb_timer_main, t) != 0) {
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    free(t);
    return NULL;
  }
  t->started = 1;
  return t;
}

void sb_timer_tick_in(sb_timer *t, unsigned ms) {
  uint64_t at;
  if (t == NULL) return;
  at = cl_monotonic_ms() + ms;
  pthread_mutex_lock(&t->mu);
  if (at < t->next_tick) {
    t->next_tick = at;
    pthread_cond_signal(&t->cv);
  }
  pthread_mutex_unlock(&t->mu);
}

int sb_timer_suspend(sb_timer *t, struct MHD_Connection *conn, unsigned ms) {
  int ok = 0;
  if (t == NULL) return 0;
  pthread_mutex_lock(&t->mu);
  if (!t->stopping && t->n < 4096) {
    if (t->n == t->cap) {
      size_t ncap = t->cap ? t->cap * 2 : 16;
      sb_wake *w = realloc(t->wakes, ncap * sizeof *w);
      if (w != NULL) {
        t->wakes = w;
        t->cap = ncap;
      }
    }
    if (t->n < t->cap) {
      MHD_suspend_connection(conn);
      t->wakes[t->n].conn = conn;
      t->wakes[t->n].due_ms = cl_monotonic_ms() + (ms ? ms : 1);
      t->n++;
      t->suspended++;
      ok = 1;
      pthread_cond_signal(&t->cv);
    }
  }
  pthread_mutex_unlock(&t->mu);
  return ok;
}

void sb_timer_resumed(sb_timer *t) {
  if (t == NULL) return;
  pthread_mutex_lock(&t->mu);
  if (t->suspended) t->suspended--;
  pthread_cond_broadcast(&t->cv);
  pthread_mutex_unlock(&t->mu);
}

int sb_timer_stopping(sb_timer *t) {
  int s;
  if (t == NULL) return 1;
  pthread_mutex_lock(&t->mu);
  s = t->stopping;
  pthread_mutex_unlock(&t->mu);
  return s;
}

void sb_timer_stop(sb_timer *t) {
  size_t i;
  uint64_t until;
  if (t == NULL) return;
  pthread_mutex_lock(&t->mu);
  t->stopping = 1;
  pthread_cond_broadcast(&t->cv);
  pthread_mutex_unlock(&t->mu);
  if (t->started) pthread_join(t->thread, NULL);
  /* MHD must not be stopped with suspended connections: resume them all (they close, since
   * sb_timer_stopping now says so) and wait until MHD has taken them back. */
  pthread_mutex_lock(&t->mu);
  for (i = 0; i < t->n; i++) MHD_resume_connection(t->wakes[i].conn);
  t->n = 0;
  until = cl_monotonic_ms() + SB_DRAIN_MS;
  while (t->suspended && cl_monotonic_ms() < until) {
    struct timespec ts;
    sb_deadline(&ts, cl_monotonic_ms() + 10);
    pthread_cond_timedwait(&t->cv, &t->mu, &ts);
  }
  pthread_mutex_unlock(&t->mu);
}

void sb_timer_free(sb_timer *t) {
  if (t == NULL) return;
  pthread_cond_destroy(&t->cv);
  pthread_mutex_destroy(&t->mu);
  free(t->wakes);
  free(t);
}

/* ---- raw connection faults ------------------------------------------------------------ */

void sb_fault_reset_socket(struct MHD_Connection *conn) {
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  struct linger lg;
  struct sockaddr sa;
  if (info == NULL) return;
  lg.l_onoff = 1;
  lg.l_linger = 0;
  (void)setsockopt(info->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  /* Dissolving the association of a connected TCP socket aborts it with a RST now, whatever
   * MHD does to the socket afterwards (it would otherwise shut down the write side first). */
  memset(&sa, 0, sizeof sa);
  sa.sa_family = AF_UNSPEC;
  (void)connect(info->connect_fd, &sa, sizeof sa);
}

/* A response body served by a fault: cut (partial, reset_mid_body) or slow (dribble). */
typedef struct sb_body_fault {
  sb_fault f;
  char *body;
  size_t len;
  struct MHD_Connection *conn;
  sb_timer *timer;
  uint64_t next_ms; /* dribble: when the next chunk may go */
  int waiting; /* suspended, counted in timer->suspended */
  int paused; /* partial / reset_mid_body: the pause before the drop has happened */
} sb_body_fault;

static ssize_t sb_suspend_for(sb_body_fault *b, unsigned ms) {
  if (!sb_timer_suspend(b->timer, b->conn, ms)) return MHD_CONTENT_READER_END_WITH_ERROR;
  b->waiting = 1;
  return 0; /* MHD calls again once the connection is resumed */
}

static ssize_t sb_body_reader(void *cls, uint64_t pos, char *buf, size_t max) {
  sb_body_fault *b = cls;
  size_t n;
  if (b->waiting) {
    b->waiting = 0;
    sb_timer_resumed(b->timer);
  }
  if (sb_timer_stopping(b->timer) || pos >= b->len) return MHD_CONTENT_READER_END_WITH_ERROR;
  if (b->f.kind == SB_FAULT_DRIBBLE) {
    uint64_t now = cl_monotonic_ms();
    if (now < b->next_ms) return sb_suspend_for(b, (unsigned)(b->next_ms - now));
    n = b->f.chunk ? b->f.chunk : 1;
    b->next_ms = now + b->f.ms;
  } else {
    if (pos >= b->f.bytes) {
      if (!b->paused) {
        b->paused = 1;
        return sb_suspend_for(b, SB_DROP_PAUSE_MS);
      }
      if (b->f.kind == SB_FAULT_RESET_MID) sb_fault_reset_socket(b->conn);
      return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    n = b->f.bytes - (size_t)pos;
  }
  if (n > b->len - (size_t)pos) n = b->len - (size_t)pos;
  if (n > max) n = max;
  memcpy(buf, b->body + pos, n);
  return (ssize_t)n;
}

static void sb_body_free(void *cls) {
  sb_body_fault *b = cls;
  if (b->waiting) sb_timer_resumed(b->timer);
  free(b->body);
  free(b);
}

struct MHD_Response *sb_fault_body_response(const char *body, size_t len, const sb_fault *f,
                                            struct MHD_Connection *conn, sb_timer *timer) {
  sb_body_fault *b = calloc(1, sizeof *b);
  struct MHD_Response *resp;
  if (b == NULL || (b->body = malloc(len ? len : 1)) == NULL) {
    free(b);
    return NULL;
  }
  memcpy(b->body, body, len);
  b->len = len;
  b->f = *f;
  if (b->f.kind != SB_FAULT_DRIBBLE && b->f.bytes >= len) b->f.bytes = len / 2;
  b->conn = conn;
  b->timer = timer;
  resp = MHD_create_response_from_callback(len, 4096, sb_body_reader, b, sb_body_free);
  if (resp == NULL) sb_body_free(b);
  return resp;
}
