/* The libcurl transport: one multi handle, a pool of reused easy handles (connections stay
 * in the multi handle's cache, so requests to one host share a kept-alive connection). The
 * only file of the project that includes curl.h is cl_curl.c. */
#ifndef CL_CURL_H
#define CL_CURL_H

#include <stddef.h>

#include "cl_error.h"

typedef struct cl_transport cl_transport;
typedef struct cl_request cl_request;
struct curl_header;

typedef struct cl_transport_opts {
  const char *user_agent; /* sent as User-Agent */
  const char *ca_file; /* NULL: the system bundle */
  const char *proxy; /* NULL: libcurl's http_proxy/https_proxy/no_proxy handling; "":
                        no proxy whatever the environment says; else the proxy's URL */
  int trace; /* 1: record a redacted debug trace (see cl_transport_trace) */
} cl_transport_opts;

typedef struct cl_request_spec {
  const char *method; /* "GET", "POST", ... */
  const char *url; /* absolute; https, or http to loopback only */
  const char *api_key; /* sent as "Authorization: Bearer <key>", redacted from traces */
  const char *const *headers; /* extra "Name: value" lines, NULL-terminated, may be NULL */
  const char *body; /* may be NULL */
  size_t body_len;
  double connect_timeout; /* seconds, > 0 */
  double timeout; /* seconds for the whole transfer, > 0 */
  size_t max_body; /* the most body bytes (after decoding) taken; 0: no cap. Past
                      it the transfer stops with a transport error. */
  size_t hold_body; /* a streamed download: when this many bytes of a 2xx body wait
                       undrained, the transfer pauses until cl_request_body_clear, so
                       at most hold_body + 16 KiB (one libcurl write) is held; 0: the
                       whole body is kept (it is the result's body) */
  int fresh_connect; /* 1: on a new connection. libcurl sends a request again by itself
                        when a reused connection turns out dead before any answer; a
                        paid call must never be repeated behind the caller's back. */
} cl_request_spec;

/// Creates a transport (calls curl_global_init once per process). NULL + err on failure.
cl_transport *cl_transport_new(const cl_transport_opts *opts, cl_error *err);
/// Frees the transport. Free every request it started first (cl_request_free); a request
/// knows it has finished through cl_request_finished. NULL is a no-op.
void cl_transport_free(cl_transport *t);

/// Queues a request; it makes progress in cl_transport_step. The transport owns the result
/// until cl_request_free. NULL + err when the spec is refused (bad URL or scheme).
cl_request *cl_transport_start(cl_transport *t, const cl_request_spec *spec, cl_error *err);

/// Drives every queued request once, waiting at most timeout_ms for network activity.
/// Returns the number of requests still running, or -1 with err on a multi-handle failure.
int cl_transport_step(cl_transport *t, int timeout_ms, cl_error *err);

/// Trace lines recorded since the last call (redacted), as one buffer; *len receives its
/// size. The buffer stays valid until the next step. Empty unless opts.trace was set.
const char *cl_transport_trace(cl_transport *t, size_t *len);

/// Abandons a running request (no effect on a finished one) and frees it.
void cl_request_free(cl_transport *t, cl_request *r);

int cl_request_finished(const cl_request *r);
/// 0 and the status, or -1 and the transport error in *err (kind, cause, sent).
int cl_request_result(const cl_request *r, long *status, cl_error *err);
const char *cl_request_body(const cl_request *r, size_t *len);
/// Forgets the body received so far (after the caller has taken it from cl_request_body), so
/// a streamed download holds no more than what arrived since the last call; resumes a
/// transfer paused by hold_body.
void cl_request_body_clear(cl_request *r);
/// The HTTP status of the response being received: 0 until its status line has arrived.
long cl_request_status_now(const cl_request *r);
/// The header fields of a finished request's final response, one at a time, as libcurl keeps
/// them (curl_easy_nextheader: no interim 1xx answer, no proxy's CONNECT answer, no trailer):
/// *at is NULL for the first field; fills *name and the value (trimmed: *value_len bytes at
/// *value) and returns 1, or 0 after the last. Valid until the next call or cl_request_free.
int cl_request_header_next(const cl_request *r, struct curl_header **at, const char **name,
                           const char **value, size_t *value_len);
/// Whether this request reused a kept-alive connection.
int cl_request_reused(const cl_request *r);

#endif
