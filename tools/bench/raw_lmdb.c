/*
 * The same work as Folio's benchmarks, done by raw LMDB: the limit Folio is measured against.
 *
 *   raw_lmdb w1 DIR COUNT SIZE [DBS]  COUNT synced commits of one SIZE-byte value; with DBS > 1,
 *                                     each commit also writes a 64-byte value into each of DBS-1
 *                                     other databases (every third under one fixed key, the rest
 *                                     under random 16-byte keys), as a commit that also writes
 *                                     indexes, read-model rows and checkpoints does
 *   raw_lmdb w2 DIR FILE BATCH        every line of FILE appended, BATCH values per commit
 *   raw_lmdb w3 DIR                   a cursor scan reading every byte of every value
 *   raw_lmdb processes N A… -- B…     starts command A and command B N times each, alternately,
 *                                     and prints each one's median wall time (W4): timed from a
 *                                     small process, so that starting them costs what it costs
 *                                     from a shell
 *
 * Keys are big-endian positions written with MDB_APPEND, as Folio's log does. Prints one line of
 * `key=value` figures.
 */
#include <fcntl.h>
#include <lmdb.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>

extern char **environ;

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
    CHECK(mdb_env_set_maxdbs(env, 64));
    CHECK(mdb_env_open(env, dir, MDB_NOTLS, 0600));
    return env;
}

/* Runs argv[0] with its output discarded; returns the wall time in seconds. */
static double time_process(char **command) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    double start = now();
    pid_t pid;
    if (posix_spawn(&pid, command[0], &actions, NULL, command, environ) != 0) { perror(command[0]); exit(1); }
    int status;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "raw_lmdb: %s failed\n", command[0]);
        exit(1);
    }
    double elapsed = now() - start;
    posix_spawn_file_actions_destroy(&actions);
    return elapsed;
}

static int processes(int argc, char **argv) {
    long runs = atol(argv[2]);
    int split = 3;
    while (split < argc && strcmp(argv[split], "--") != 0) split++;
    if (runs < 1 || split == 3 || split >= argc - 1) { fprintf(stderr, "usage: raw_lmdb processes N A… -- B…\n"); return 2; }
    argv[split] = NULL; /* A is argv[3..split), B is argv[split+1..argc) */
    double *a = calloc(runs, sizeof *a), *b = calloc(runs, sizeof *b);
    for (long i = 0; i < runs; i++) {
        a[i] = time_process(argv + 3);
        b[i] = time_process(argv + split + 1);
    }
    qsort(a, runs, sizeof *a, compare_doubles);
    qsort(b, runs, sizeof *b, compare_doubles);
    printf("a_median_ms=%.3f b_median_ms=%.3f\n", a[runs / 2] * 1e3, b[runs / 2] * 1e3);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "processes") == 0) return processes(argc, argv);
    if (argc < 3) { fprintf(stderr, "usage: raw_lmdb w1|w2|w3 DIR …\n"); return 2; }
    MDB_env *env = open_env(argv[2]);
    MDB_dbi dbi;
    MDB_txn *txn;
    CHECK(mdb_txn_begin(env, NULL, 0, &txn));
    CHECK(mdb_dbi_open(txn, "log", MDB_CREATE, &dbi));
    CHECK(mdb_txn_commit(txn));
    unsigned char key_bytes[8];
    MDB_val key = { 8, key_bytes }, value;

    if (strcmp(argv[1], "w1") == 0 && (argc == 5 || argc == 6)) {
        long count = atol(argv[3]), size = atol(argv[4]);
        int databases = argc == 6 ? atoi(argv[5]) : 1;
        if (databases < 1 || databases > 60) { fprintf(stderr, "raw_lmdb: DBS must be 1 to 60\n"); return 2; }
        MDB_dbi others[60];
        CHECK(mdb_txn_begin(env, NULL, 0, &txn));
        for (int d = 1; d < databases; d++) {
            char name[16];
            snprintf(name, sizeof name, "index%d", d);
            CHECK(mdb_dbi_open(txn, name, MDB_CREATE, &others[d]));
        }
        CHECK(mdb_txn_commit(txn));
        char *payload = malloc(size);
        memset(payload, 'x', size);
        char row[64];
        memset(row, 'r', sizeof row);
        uint64_t state = 0x9E3779B97F4A7C15ULL;
        double *latency = malloc(sizeof(double) * count);
        double start = now();
        for (long i = 0; i < count; i++) {
            double t = now();
            CHECK(mdb_txn_begin(env, NULL, 0, &txn));
            key_for(i + 1, key_bytes);
            value.mv_size = size;
            value.mv_data = payload;
            CHECK(mdb_put(txn, dbi, &key, &value, MDB_APPEND));
            for (int d = 1; d < databases; d++) {
                unsigned char id[16] = { 0 };
                if (d % 3 != 0) {
                    for (int b = 0; b < 16; b++) {
                        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
                        id[b] = state >> 56;
                    }
                }
                MDB_val index_key = { sizeof id, id }, index_value = { sizeof row, row };
                CHECK(mdb_put(txn, others[d], &index_key, &index_value, 0));
            }
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
        fprintf(stderr, "usage: raw_lmdb w1 DIR COUNT SIZE [DBS] | w2 DIR FILE BATCH | w3 DIR | processes N A… -- B…\n");
        return 2;
    }
    mdb_env_close(env);
    return 0;
}
