/*
 * The same work as Folio's benchmarks, done by raw LMDB: the limit Folio is measured against.
 *
 *   raw_lmdb w1 DIR COUNT SIZE        COUNT single-value synced commits of SIZE bytes
 *   raw_lmdb w2 DIR FILE BATCH        every line of FILE appended, BATCH values per commit
 *   raw_lmdb w3 DIR                   a cursor scan reading every byte of every value
 *
 * Keys are big-endian positions written with MDB_APPEND, as Folio's log does. Prints one line of
 * `key=value` figures.
 */
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(expr) do { int rc_ = (expr); if (rc_ != MDB_SUCCESS) { \
    fprintf(stderr, "raw_lmdb: %s: %s\n", #expr, mdb_strerror(rc_)); exit(1); } } while (0)

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void key_for(uint64_t position, unsigned char key[8]) {
    for (int i = 7; i >= 0; i--) { key[i] = position & 0xff; position >>= 8; }
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static MDB_env *open_env(const char *dir) {
    MDB_env *env;
    CHECK(mdb_env_create(&env));
    CHECK(mdb_env_set_mapsize(env, (size_t)64 << 30));
    CHECK(mdb_env_set_maxdbs(env, 4));
    CHECK(mdb_env_open(env, dir, MDB_NOTLS, 0600));
    return env;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: raw_lmdb w1|w2|w3 DIR …\n"); return 2; }
    MDB_env *env = open_env(argv[2]);
    MDB_dbi dbi;
    MDB_txn *txn;
    CHECK(mdb_txn_begin(env, NULL, 0, &txn));
    CHECK(mdb_dbi_open(txn, "log", MDB_CREATE, &dbi));
    CHECK(mdb_txn_commit(txn));
    unsigned char key_bytes[8];
    MDB_val key = { 8, key_bytes }, value;

    if (strcmp(argv[1], "w1") == 0 && argc == 5) {
        long count = atol(argv[3]), size = atol(argv[4]);
        char *payload = malloc(size);
        memset(payload, 'x', size);
        double *latency = malloc(sizeof(double) * count);
        double start = now();
        for (long i = 0; i < count; i++) {
            double t = now();
            CHECK(mdb_txn_begin(env, NULL, 0, &txn));
            key_for(i + 1, key_bytes);
            value.mv_size = size;
            value.mv_data = payload;
            CHECK(mdb_put(txn, dbi, &key, &value, MDB_APPEND));
            CHECK(mdb_txn_commit(txn));
            latency[i] = now() - t;
        }
        double elapsed = now() - start;
        qsort(latency, count, sizeof(double), compare_doubles);
        printf("events_per_second=%.1f p50_ms=%.3f p99_ms=%.3f\n", count / elapsed, latency[count / 2] * 1e3, latency[(long)(count * 0.99)] * 1e3);
    } else if (strcmp(argv[1], "w2") == 0 && argc == 5) {
        FILE *file = fopen(argv[3], "r");
        if (!file) { perror(argv[3]); return 1; }
        long batch = atol(argv[4]);
        char *line = NULL;
        size_t capacity = 0;
        ssize_t length;
        uint64_t position = 0;
        double bytes = 0;
        double start = now();
        CHECK(mdb_txn_begin(env, NULL, 0, &txn));
        while ((length = getline(&line, &capacity, file)) > 0) {
            key_for(++position, key_bytes);
            value.mv_size = length;
            value.mv_data = line;
            bytes += length;
            CHECK(mdb_put(txn, dbi, &key, &value, MDB_APPEND));
            if (position % batch == 0) {
                CHECK(mdb_txn_commit(txn));
                CHECK(mdb_txn_begin(env, NULL, 0, &txn));
            }
        }
        CHECK(mdb_txn_commit(txn));
        double elapsed = now() - start;
        printf("events=%llu events_per_second=%.1f payload_bytes=%.0f\n", (unsigned long long)position, position / elapsed, bytes);
    } else if (strcmp(argv[1], "w3") == 0) {
        MDB_cursor *cursor;
        double start = now();
        CHECK(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn));
        CHECK(mdb_cursor_open(txn, dbi, &cursor));
        uint64_t count = 0, sum = 0;
        while (mdb_cursor_get(cursor, &key, &value, count == 0 ? MDB_FIRST : MDB_NEXT) == MDB_SUCCESS) {
            const unsigned char *bytes = value.mv_data;
            for (size_t i = 0; i < value.mv_size; i++) sum += bytes[i];
            count++;
        }
        mdb_cursor_close(cursor);
        mdb_txn_abort(txn);
        double elapsed = now() - start;
        printf("events=%llu events_per_second=%.1f checksum=%llu\n", (unsigned long long)count, count / elapsed, (unsigned long long)sum);
    } else {
        fprintf(stderr, "usage: raw_lmdb w1 DIR COUNT SIZE | w2 DIR FILE BATCH | w3 DIR\n");
        return 2;
    }
    mdb_env_close(env);
    return 0;
}
