/* The clocks of the project, in one place: every other file reads time through these. */
#ifndef CL_CLOCK_H
#define CL_CLOCK_H

#include <stdint.h>

/// Nanoseconds of CLOCK_MONOTONIC: from an arbitrary origin, never going back.
uint64_t cl_monotonic_ns(void);

/// Milliseconds of CLOCK_MONOTONIC (cl_monotonic_ns() / 1000000).
uint64_t cl_monotonic_ms(void);

/// Milliseconds since the Unix epoch (CLOCK_REALTIME): for timestamps only, never for waits.
uint64_t cl_wall_ms(void);

#endif
