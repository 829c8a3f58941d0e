"""bench/overhead's Python contender: GET /whoami through one requests.Session (kept-alive
connection), the JSON decoded and status 200 checked each time.
Run: python3 bench/overhead_requests.py BASE_URL N WARMUP   (CLEANLIST_API_KEY set)
Prints "n=N wall_s=SECONDS cpu_s=SECONDS"; cpu_s is time.process_time() (user+sys)."""
import os
import sys
import time

import requests

base_url, n, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
session = requests.Session()
session.headers["Authorization"] = "Bearer " + os.environ["CLEANLIST_API_KEY"]
session.headers["Accept"] = "application/json"
url = base_url + "/whoami"


def call():
    r = session.get(url)
    if r.status_code != 200:
        raise SystemExit("status %d" % r.status_code)
    if not isinstance(r.json().get("organization_id"), str):
        raise SystemExit("no organization_id in the answer")


for _ in range(warmup):
    call()
t0, c0 = time.perf_counter(), time.process_time()
for _ in range(n):
    call()
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
print("n=%d wall_s=%.6f cpu_s=%.6f" % (n, wall, cpu))
