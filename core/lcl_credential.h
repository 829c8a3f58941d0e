/* The API key as a Lua value that cannot be printed: a userdata shared by the two C modules
 * (created by cleanlist.core, read by cleanlist.curl). tostring() shows only its mask. */
#ifndef LCL_CREDENTIAL_H
#define LCL_CREDENTIAL_H

#include <stddef.h>

#define LCL_CREDENTIAL_MT "cleanlist.Credential"

typedef struct lcl_credential {
  char *key; /* NUL-terminated, wiped on collection */
  size_t len;
} lcl_credential;

#endif
