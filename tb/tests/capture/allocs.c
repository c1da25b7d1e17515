/*
 * The program `memento capture`'s test runs: threads that make every allocation call the
 * interposer wraps, on a seeded stream, then prints how many of each call succeeded.
 *
 *   allocs threads N SEED   4 threads, N calls each
 *   allocs fork N SEED      the same, then a fork that allocates on its own and a fork that
 *                           execs /bin/true (which must not be captured)
 *   allocs segv N SEED      the same, then a write through a null pointer
 *   allocs kill N SEED      the same, then SIGKILL to itself
 *
 * Built with -fno-builtin so that the compiler keeps every call.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { MALLOC, CALLOC, REALLOC, REALLOCARRAY, FREE, POSIX_MEMALIGN, ALIGNED_ALLOC, MEMALIGN,
       VALLOC, PVALLOC, KINDS };
static const char *names[KINDS] = {"malloc", "calloc", "realloc", "reallocarray", "free",
                                   "posix_memalign", "aligned_alloc", "memalign", "valloc",
                                   "pvalloc"};
static unsigned long counts[KINDS];

#define SLOTS 48

struct worker {
    uint64_t state;
    long calls;
};

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void count(int k)
{
    __atomic_fetch_add(&counts[k], 1, __ATOMIC_RELAXED);
}

static size_t size_of(uint64_t r)
{
    /* Mostly objects the hardware serves, some larger. */
    return (r % 10 == 0) ? 513 + r % 3000 : r % 513;
}

static void *one_alloc(uint64_t *s)
{
    uint64_t r = next(s);
    size_t n = size_of(next(s));
    void *p = NULL;
    switch (r % 8) {
    case 0:
        p = calloc(1 + r % 7, n / 8 + 1);
        if (p) count(CALLOC);
        n = (1 + r % 7) * (n / 8 + 1);
        break;
    case 1:
        if (posix_memalign(&p, 64, n) == 0) count(POSIX_MEMALIGN);
        else p = NULL;
        break;
    case 2:
        p = aligned_alloc(32, (n + 31) & ~(size_t)31);
        if (p) count(ALIGNED_ALLOC);
        break;
    case 3:
        p = memalign(16, n);
        if (p) count(MEMALIGN);
        break;
    case 4:
        if (r % 64 == 4) {
            p = valloc(n);
            if (p) count(VALLOC);
        } else if (r % 64 == 12) {
            p = pvalloc(n);
            if (p) count(PVALLOC);
        } else {
            p = malloc(n);
            if (p) count(MALLOC);
        }
        break;
    default:
        p = malloc(n);
        if (p) count(MALLOC);
    }
    if (p && n)
        memset(p, (int)r, n < 64 ? n : 64);
    return p;
}

static void step(uint64_t *s, void **slot)
{
    uint64_t r = next(s);
    void **p = &slot[r % SLOTS];
    if (!*p) {
        if (r % 16 == 1) { /* realloc from nothing */
            *p = realloc(NULL, size_of(next(s)));
            if (*p) count(REALLOC);
        } else {
            *p = one_alloc(s);
        }
        return;
    }
    switch (r % 9) {
    case 0: {
        void *q = realloc(*p, 1 + size_of(next(s))); /* size 0 is case 2's */
        if (q) { *p = q; count(REALLOC); }
        break;
    }
    case 1: {
        void *q = reallocarray(*p, 1 + r % 5, size_of(next(s)) / 5 + 1);
        if (q) { *p = q; count(REALLOCARRAY); }
        break;
    }
    case 2:
        if (r % 7 == 2) { /* glibc frees the object */
            void *q = realloc(*p, 0);
            (void)q;
            *p = NULL;
            count(REALLOC);
            break;
        }
        /* fall through */
    default:
        free(*p);
        count(FREE);
        *p = NULL;
    }
}

static void *work(void *arg)
{
    struct worker *w = arg;
    void *slot[SLOTS] = {0};
    for (long k = 0; k < w->calls; k++)
        step(&w->state, slot);
    /* Leave a few live, free the rest. */
    for (int k = 8; k < SLOTS; k++)
        if (slot[k]) { free(slot[k]); count(FREE); }
    return NULL;
}

static void run_threads(long calls, uint64_t seed)
{
    pthread_t t[4];
    struct worker w[4];
    for (int k = 0; k < 4; k++) {
        w[k].state = seed * 0x9E3779B97F4A7C15ULL + (uint64_t)k + 1;
        w[k].calls = calls;
        pthread_create(&t[k], NULL, work, &w[k]);
    }
    for (int k = 0; k < 4; k++)
        pthread_join(t[k], NULL);
}

static void print_counts(const char *who)
{
    for (int k = 0; k < KINDS; k++)
        printf("%s %s %lu\n", who, names[k], counts[k]);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "threads";
    long calls = argc > 2 ? atol(argv[2]) : 1500;
    uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
    run_threads(calls, seed | 1);
    print_counts("main");
    if (!strcmp(mode, "fork")) {
        pid_t c = fork();
        if (c == 0) {
            memset(counts, 0, sizeof counts);
            void *p[100];
            for (int k = 0; k < 100; k++) { p[k] = malloc(16 + k); count(MALLOC); }
            for (int k = 0; k < 100; k += 2) { free(p[k]); count(FREE); }
            print_counts("child");
            exit(0);
        }
        waitpid(c, NULL, 0);
        pid_t e = fork();
        if (e == 0) {
            execl("/bin/true", "true", (char *)NULL);
            _exit(127);
        }
        waitpid(e, NULL, 0);
    } else if (!strcmp(mode, "segv")) {
        void *p = malloc(40);
        count(MALLOC);
        print_counts("crash");
        *(volatile int *)(uintptr_t)(p ? 0 : 0) = 1;
    } else if (!strcmp(mode, "kill")) {
        void *p = malloc(40);
        count(MALLOC);
        (void)p;
        print_counts("crash");
        raise(SIGKILL);
    }
    return 0;
}
