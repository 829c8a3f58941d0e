#include "cl_auth.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *cl_auth_resolve(const char *explicit_key, cl_error *err) {
  const char *key = explicit_key ? explicit_key : getenv(CL_API_KEY_ENV);
  if (!key || !*key) {
    cl_error_set(err, CL_ECONFIG, 0,
                 explicit_key ? "the api_key option is empty"
                              : "no API key: pass api_key to cleanlist.new or set the "
                                "environment variable " CL_API_KEY_ENV);
    return NULL;
  }
  return key;
}

static int is_b64url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '=';
}

static int looks_like_jwt(const char *s) {
  int parts = 1, run = 0;
  for (; *s; s++) {
    if (*s == '.') {
      if (run == 0) return 0;
      parts++;
      run = 0;
    } else if (is_b64url(*s)) {
      run++;
    } else {
      return 0;
    }
  }
  return parts == 3 && run > 0;
}

int cl_auth_key_char(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

size_t cl_auth_key_span(const char *s, size_t n) {
  const size_t plen = sizeof CL_API_KEY_PREFIX - 1;
  size_t i = plen;
  if (n < plen || memcmp(s, CL_API_KEY_PREFIX, plen) != 0) return 0;
  while (i < n && cl_auth_key_char((unsigned char)s[i])) i++;
  return i;
}

int cl_auth_is_key(const char *key) {
  size_t n = strlen(key);
  return n > sizeof CL_API_KEY_PREFIX - 1 && cl_auth_key_span(key, n) == n;
}

int cl_auth_check(const char *key, cl_error *err) {
  size_t n = strlen(key);
  if (n > CL_API_KEY_MAX)
    return cl_error_set(err, CL_ECONFIG, 0, "API key is too long (%zu bytes)", n);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)key[i];
    if (c <= ' ' || c == 0x7f)
      return cl_error_set(err, CL_ECONFIG, 0,
                          "API key contains a space or control character at byte %zu; "
                          "copy it again without surrounding text",
                          i + 1);
  }
  size_t span = cl_auth_key_span(key, n);
  if (span > 0) {
    if (n == strlen(CL_API_KEY_PREFIX))
      return cl_error_set(err, CL_ECONFIG, 0, "API key is only the clapi_ prefix");
    if (span < n)
      return cl_error_set(err, CL_ECONFIG, 0,
                          "API key has a character a Cleanlist key cannot have at byte %zu "
                          "(keys are letters, digits, '_' and '-'); copy it again",
                          span + 1);
    return 0;
  }
  if (looks_like_jwt(key)) return 0;
  return cl_error_set(err, CL_ECONFIG, 0,
                      "API key does not look like a Cleanlist key: keys start with clapi_ "
                      "(check " CL_API_KEY_ENV " or the api_key option)");
}

/* Length of an "Authorization:" header value starting at p (up to CR/LF or end). */
static size_t header_value_len(const char *p, const char *end) {
  const char *q = p;
  while (q < end && *q != '\r' && *q != '\n') q++;
  return (size_t)(q - p);
}

static size_t put(char *out, size_t cap, size_t o, const char *s, size_t n) {
  for (size_t i = 0; i < n && o + 1 < cap; i++) out[o++] = s[i];
  return o;
}

/* At a line start: the length of "Authorization:" or "Proxy-Authorization:" there, or 0. */
static size_t authorization_name_len(const char *p, size_t left) {
  static const char hdr[] = "authorization:", proxy[] = "proxy-";
  const size_t hlen = sizeof hdr - 1, plen = sizeof proxy - 1;
  size_t skip = left >= plen && strncasecmp(p, proxy, plen) == 0 ? plen : 0;
  if (left - skip >= hlen && strncasecmp(p + skip, hdr, hlen) == 0) return skip + hlen;
  return 0;
}

size_t cl_redact_text(const char *in, size_t len, const char *secret, unsigned flags, char *out,
                      size_t cap) {
  static const char key_mark[] = CL_API_KEY_PREFIX CL_ELLIPSIS;
  const size_t rlen = strlen(CL_REDACTED);
  size_t slen = secret ? strlen(secret) : 0, o = 0, i = 0, hlen;
  const char *end = in + len;
  if (cap == 0) return 0;
  while (i < len && o + 1 < cap) {
    if (slen && len - i >= slen && memcmp(in + i, secret, slen) == 0) {
      o = put(out, cap, o, CL_REDACTED, rlen);
      i += slen;
    } else if ((flags & CL_REDACT_HEADERS) && (i == 0 || in[i - 1] == '\n') &&
               (hlen = authorization_name_len(in + i, len - i)) > 0) {
      o = put(out, cap, o, in + i, hlen);
      i += hlen;
      o = put(out, cap, o, " " CL_REDACTED, rlen + 1);
      i += header_value_len(in + i, end);
    } else if ((flags & CL_REDACT_KEYS) && (hlen = cl_auth_key_span(in + i, len - i)) > 0) {
      o = put(out, cap, o, key_mark, sizeof key_mark - 1);
      i += hlen;
    } else {
      out[o++] = in[i++];
    }
  }
  out[o] = '\0';
  return o;
}

size_t cl_redact(const char *in, size_t len, const char *secret, char *out, size_t cap) {
  return cl_redact_text(in, len, secret, CL_REDACT_HEADERS, out, cap);
}

size_t cl_redact_credential(const char *value, size_t len, char *out, size_t cap) {
  const size_t plen = sizeof CL_API_KEY_PREFIX - 1;
  const char *token = value;
  size_t tlen = len, word = 0, o = 0;
  if (cap == 0) return 0;
  while (word < len && isalpha((unsigned char)value[word])) word++;
  size_t gap = word;
  while (gap < len && isspace((unsigned char)value[gap])) gap++;
  if (word > 0 && word <= 20 && gap > word) { /* "Scheme token": keep the scheme */
    o = put(out, cap, o, value, word);
    o = put(out, cap, o, " ", 1);
    token = value + gap;
    tlen = len - gap;
    while (tlen > 0 && isspace((unsigned char)token[tlen - 1])) tlen--;
  }
  if (tlen >= plen && memcmp(token, CL_API_KEY_PREFIX, plen) == 0)
    o = put(out, cap, o, CL_API_KEY_PREFIX, plen);
  o = put(out, cap, o, CL_ELLIPSIS, sizeof CL_ELLIPSIS - 1);
  if (tlen >= 12) o = put(out, cap, o, token + tlen - 4, 4);
  out[o] = '\0';
  return o;
}

void cl_auth_mask(const char *key, char *out, size_t cap) {
  size_t n = key ? strlen(key) : 0;
  size_t plen = strlen(CL_API_KEY_PREFIX);
  if (cap == 0) return;
  if (n > 14 && strncmp(key, CL_API_KEY_PREFIX, plen) == 0) {
    /* "clapi_" + U+2026 + last four */
    size_t o = put(out, cap, 0, key, plen);
    o = put(out, cap, o, CL_ELLIPSIS, sizeof CL_ELLIPSIS - 1);
    o = put(out, cap, o, key + n - 4, 4);
    out[o] = '\0';
  } else {
    size_t o = put(out, cap, 0, CL_REDACTED, strlen(CL_REDACTED));
    out[o] = '\0';
  }
}
