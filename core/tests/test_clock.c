#include <time.h>

#include "check.h"
#include "cl_clock.h"

int main(void) {
  uint64_t ns = cl_monotonic_ns(), ms = cl_monotonic_ms();
  CHECK(ms >= ns / 1000000u);
  CHECK(ms - ns / 1000000u < 1000u);
  uint64_t prev = cl_monotonic_ns();
  for (int i = 0; i < 1000; i++) {
    uint64_t now = cl_monotonic_ns();
    CHECK(now >= prev);
    prev = now;
  }
  struct timespec pause = {0, 20 * 1000000L};
  uint64_t before = cl_monotonic_ms();
  nanosleep(&pause, NULL);
  CHECK(cl_monotonic_ms() - before >= 19u);
  /* the wall clock is epoch milliseconds: after 2020-01-01, within a second of time() */
  uint64_t wall = cl_wall_ms();
  CHECK(wall > 1577836800000u);
  uint64_t t = (uint64_t)time(NULL);
  CHECK(wall / 1000u + 1u >= t && wall / 1000u <= t + 1u);
  return check_summary("test_clock");
}
