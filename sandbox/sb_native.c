/* sandbox.native: the few primitives the sandbox's Lua needs from C. On OpenSSL: HMAC-SHA256
 * (quote and download-URL signatures), SHA-256, constant-time comparison, base64. From the
 * core's policy (cl_auth.c, cl_url.c), so that the sandbox and the client share one rule each:
 * the loopback check and the redaction of keys and credentials. */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "cl_auth.h"
#include "cl_url.h"
#include "lcl_compat.h"
#include "sb_internal.h"

static void sb_push_hex(lua_State *L, const unsigned char *d, size_t n) {
  static const char digits[] = "0123456789abcdef";
  char hex[2 * EVP_MAX_MD_SIZE];
  for (size_t i = 0; i < n; i++) {
    hex[2 * i] = digits[d[i] >> 4];
    hex[2 * i + 1] = digits[d[i] & 15];
  }
  lua_pushlstring(L, hex, 2 * n);
}

/// native.hmac_sha256_hex(key, message) -> 64 hex digits
static int sb_hmac_sha256_hex(lua_State *L) {
  size_t klen, mlen;
  const char *key = luaL_checklstring(L, 1, &klen);
  const char *msg = luaL_checklstring(L, 2, &mlen);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, mlen, md, &n))
    return luaL_error(L, "HMAC-SHA256 failed");
  sb_push_hex(L, md, n);
  return 1;
}

/// native.sha256_hex(message) -> 64 hex digits
static int sb_sha256_hex(lua_State *L) {
  size_t mlen;
  const char *msg = luaL_checklstring(L, 1, &mlen);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!EVP_Digest(msg, mlen, md, &n, EVP_sha256(), NULL)) return luaL_error(L, "SHA-256 failed");
  sb_push_hex(L, md, n);
  return 1;
}

/// native.equal(a, b) -> boolean, in time independent of where they differ
static int sb_equal(lua_State *L) {
  size_t alen, blen;
  const char *a = luaL_checklstring(L, 1, &alen);
  const char *b = luaL_checklstring(L, 2, &blen);
  lua_pushboolean(L, alen == blen && CRYPTO_memcmp(a, b, alen) == 0);
  return 1;
}

/// native.b64encode(bytes) -> base64 text (no line breaks)
static int sb_b64encode(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  luaL_argcheck(L, n < (size_t)1 << 28, 1, "too large");
  size_t cap = 4 * ((n + 2) / 3) + 1;
  unsigned char *out = lua_newuserdata(L, cap);
  int len = EVP_EncodeBlock(out, (const unsigned char *)s, (int)n);
  lua_pushlstring(L, (const char *)out, (size_t)len);
  return 1;
}

/// native.b64decode(text) -> bytes | nil, message. Strict: standard alphabet, padding as
/// needed, no line breaks or spaces.
static int sb_b64decode(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  luaL_argcheck(L, n < (size_t)1 << 28, 1, "too large");
  if (n % 4 != 0) {
    lua_pushnil(L);
    lua_pushliteral(L, "base64 text length is not a multiple of 4");
    return 2;
  }
  unsigned char *out = lua_newuserdata(L, n / 4 * 3 + 1);
  int len = n ? EVP_DecodeBlock(out, (const unsigned char *)s, (int)n) : 0;
  if (len < 0) {
    lua_pushnil(L);
    lua_pushliteral(L, "not valid base64");
    return 2;
  }
  /* EVP_DecodeBlock counts padding as zero bytes: drop them. */
  if (n >= 1 && s[n - 1] == '=') len--;
  if (n >= 2 && s[n - 2] == '=') len--;
  lua_pushlstring(L, (const char *)out, (size_t)len);
  return 1;
}

/// native.is_loopback(host) -> boolean: host (without brackets) names the local machine
static int sb_l_is_loopback(lua_State *L) {
  lua_pushboolean(L, cl_host_is_loopback(luaL_checkstring(L, 1)));
  return 1;
}

/* Pushes what redact(in, len, out, cap) writes; out has room for any redaction of in. */
static int sb_push_redacted(lua_State *L, size_t (*redact)(const char *, size_t, char *, size_t)) {
  size_t len, cap;
  const char *s = luaL_checklstring(L, 1, &len);
  char small[512], *out = small;
  luaL_argcheck(L, len < (size_t)1 << 28, 1, "too large");
  cap = 2 * len + 64;
  if (cap > sizeof small) out = lua_newuserdata(L, cap);
  lua_pushlstring(L, out, redact(s, len, out, cap));
  return 1;
}

static size_t sb_scrub_keys(const char *s, size_t len, char *out, size_t cap) {
  return cl_redact_text(s, len, NULL, CL_REDACT_KEYS, out, cap);
}

/// native.scrub(text) -> text with anything shaped like a clapi_ key cut to "clapi_…" (log
/// lines, echoed paths and messages)
static int sb_l_scrub(lua_State *L) {
  return sb_push_redacted(L, sb_scrub_keys);
}

/// native.redact_credential(value) -> "Bearer clapi_…a4f9": a credential header as recorded
static int sb_l_redact_credential(lua_State *L) {
  return sb_push_redacted(L, cl_redact_credential);
}

int sb_open_native(lua_State *L) {
  static const luaL_Reg funcs[] = {{"hmac_sha256_hex", sb_hmac_sha256_hex},
                                   {"sha256_hex", sb_sha256_hex},
                                   {"equal", sb_equal},
                                   {"b64encode", sb_b64encode},
                                   {"b64decode", sb_b64decode},
                                   {"is_loopback", sb_l_is_loopback},
                                   {"scrub", sb_l_scrub},
                                   {"redact_credential", sb_l_redact_credential},
                                   {NULL, NULL}};
  lua_newtable(L);
  for (const luaL_Reg *f = funcs; f->name; f++) {
    lua_pushcfunction(L, f->func);
    lua_setfield(L, -2, f->name);
  }
  return 1;
}
