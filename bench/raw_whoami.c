/* The reference of bench/overhead: GET /whoami in a plain libcurl loop on one reused easy
 * handle (one kept-alive connection), the body counted and dropped, status 200 checked.
 * Usage: raw_whoami URL N WARMUP   (CLEANLIST_API_KEY holds the key)
 * Prints one line: "n=N wall_s=SECONDS cpu_s=SECONDS bytes=BYTES" for the N timed requests
 * (the WARMUP ones before them are not counted); cpu_s is user+sys of this process. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static size_t count_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    (void)data;
    *(size_t *)userdata += size * nmemb;
    return size * nmemb;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec)
        + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* One request on the reused handle; 0 when it answered 200 with a body. */
static int fetch(CURL *h, size_t *bytes)
{
    size_t before = *bytes;
    long status = 0;
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        fprintf(stderr, "raw_whoami: %s\n", curl_easy_strerror(rc));
        return -1;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200 || *bytes == before) {
        fprintf(stderr, "raw_whoami: status %ld, %zu bytes\n", status, *bytes - before);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: raw_whoami URL N WARMUP\n");
        return 2;
    }
    const char *key = getenv("CLEANLIST_API_KEY");
    if (!key) {
        fprintf(stderr, "raw_whoami: CLEANLIST_API_KEY is not set\n");
        return 2;
    }
    long n = strtol(argv[2], NULL, 10), warmup = strtol(argv[3], NULL, 10);
    char auth[512];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *h = curl_easy_init();
    struct curl_slist *headers = curl_slist_append(NULL, auth);
    size_t bytes = 0;
    if (!h || !headers) return 2;
    curl_easy_setopt(h, CURLOPT_URL, argv[1]);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, count_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &bytes);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* no SIGPIPE juggling per transfer */

    for (long i = 0; i < warmup; i++)
        if (fetch(h, &bytes)) return 1;
    bytes = 0;
    double w0 = wall_now(), c0 = cpu_now();
    for (long i = 0; i < n; i++)
        if (fetch(h, &bytes)) return 1;
    double wall = wall_now() - w0, cpu = cpu_now() - c0;
    printf("n=%ld wall_s=%.6f cpu_s=%.6f bytes=%zu\n", n, wall, cpu, bytes);

    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    curl_global_cleanup();
    return 0;
}
