/*
 * The allocation interposer of `memento capture`, preloaded into the captured program.
 *
 * It wraps malloc, calloc, realloc, reallocarray, free, posix_memalign, aligned_alloc, memalign,
 * valloc and pvalloc, forwards each to the next definition (dlsym RTLD_NEXT) and appends one
 * record per call to a log file that is mapped shared: every committed record is in the kernel's
 * page cache as soon as it is written, so a crash, a signal or SIGKILL leaves the log readable up
 * to the last call. `memento capture` turns the log into a malloc-lab trace (capture/src/raw.rs
 * reads it; the header's field order below is mirrored there).
 *
 * - While dlsym resolves the real functions it may allocate: those calls are served from a static
 *   bump arena, and frees of its blocks are ignored.
 * - Threads are serialised into one stream by one lock. A free is recorded before the real free and
 *   an allocation after the real call returns, so the order of the stream is one the allocator
 *   really went through; a realloc holds the lock across the real call.
 * - fork: the child starts its own log (named by its pid) with an empty table; frees of objects it
 *   inherited are counted, not recorded.
 * - exec: the lib removes itself from LD_PRELOAD at start, so exec'd programs are not captured,
 *   unless MEMENTO_CAPTURE_FOLLOW_EXEC=1.
 * - Each recorded call is timed with fenced TSC reads around the real call only, and its minor
 *   page faults are counted with getrusage(RUSAGE_THREAD) around the same window. The capture's own
 *   work around it is timed too (overhead), so the program's own time can be recovered.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#define MAGIC 0x315041434f4d454dULL /* "MEMOCAP1" little-endian */
#define VERSION 1
#define HEADER_BYTES 4096
#define CHUNK_BYTES (1UL << 20)
#define RESERVE_BYTES (16UL << 30)
#define MAX_OBJECT 512

/* Call kinds: the order of the per-kind counters. */
enum kind {
    K_MALLOC,
    K_CALLOC,
    K_REALLOC,
    K_REALLOCARRAY,
    K_FREE,
    K_POSIX_MEMALIGN,
    K_ALIGNED_ALLOC,
    K_MEMALIGN,
    K_VALLOC,
    K_PVALLOC,
    K_COUNT
};

/* The log's header: 64-bit words, in this order (capture/src/raw.rs mirrors it). */
enum field {
    H_MAGIC,
    H_VERSION,
    H_PID,
    H_PPID,
    H_RECORDS,          /* committed records */
    H_STATE,            /* 0 running, 1 the destructor ran */
    H_START_TSC,
    H_START_NS,         /* CLOCK_MONOTONIC */
    H_LAST_TSC,         /* at the last record */
    H_END_TSC,
    H_END_NS,
    H_MINFLT_START,     /* RUSAGE_SELF at start */
    H_MINFLT_END,       /* RUSAGE_SELF when the destructor ran */
    H_CAPTURE_FAULTS,   /* minor faults of the capture's own mappings */
    H_OVERHEAD_CYCLES,  /* the capture's own work around the recorded calls */
    H_SERVED_CALLS,     /* calls the hardware would answer (objects of at most 512 B) */
    H_SERVED_CYCLES,
    H_SERVED_FAULTS,
    H_UNTRACKED_FREES,  /* frees of objects allocated before the capture (or inherited) */
    H_UNTRACKED_REALLOCS,
    H_FAILED_CALLS,     /* calls that returned no memory (not recorded) */
    H_ALIGNED_CALLS,    /* aligned requests (recorded with their size) */
    H_TRUNCATED,        /* 1 when the log ran out of room and recording stopped */
    H_FOLLOW_EXEC,
    H_WINDOW_CYCLES,    /* an empty timed window's cycles, taken off every call's */
    H_THREADS,          /* threads that made a recorded call */
    H_CALLS,            /* K_COUNT counters each */
    H_CYCLES = H_CALLS + K_COUNT,
    H_FAULTS = H_CYCLES + K_COUNT,
    H_COMM = H_FAULTS + K_COUNT, /* 16 bytes: the process name */
    H_FIELDS = H_COMM + 2
};

/* A record: kind << 56 | id, then the size. */
enum { R_ALLOC = 1, R_FREE = 2, R_REALLOC = 3 };

struct real_fns {
    void *(*malloc)(size_t);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void *(*reallocarray)(void *, size_t, size_t);
    void (*free)(void *);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*memalign)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
};

static struct real_fns real;
/* 0 nothing resolved, 1 resolving (dlsym may call back), 2 resolved. */
static volatile int resolved;
/* Set once the log is open: calls are recorded. */
static volatile int capturing;

static __thread int in_hook __attribute__((tls_model("initial-exec")));
static __thread int thread_seen __attribute__((tls_model("initial-exec")));
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- the bootstrap arena for dlsym's own allocations ---- */

static char boot[1 << 16] __attribute__((aligned(64)));
static size_t boot_used;

static int in_boot(const void *p)
{
    return (const char *)p >= boot && (const char *)p < boot + sizeof boot;
}

static void *boot_alloc(size_t n, size_t align)
{
    if (align < 16)
        align = 16;
    size_t start;
    for (;;) {
        size_t old = __atomic_load_n(&boot_used, __ATOMIC_RELAXED);
        start = (old + 16 + align - 1) & ~(align - 1);
        if (start + n > sizeof boot)
            return NULL;
        if (__atomic_compare_exchange_n(&boot_used, &old, start + n, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED))
            break;
    }
    memcpy(boot + start - sizeof(size_t), &n, sizeof n);
    memset(boot + start, 0, n);
    return boot + start;
}

static size_t boot_size(const void *p)
{
    size_t n;
    memcpy(&n, (const char *)p - sizeof n, sizeof n);
    return n;
}

static void *fallback_reallocarray(void *old, size_t n, size_t m)
{
    size_t bytes;
    if (__builtin_mul_overflow(n, m, &bytes)) {
        errno = ENOMEM;
        return NULL;
    }
    return real.realloc(old, bytes);
}

static void *fallback_pvalloc(size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return real.memalign(page, (n + page - 1) & ~(page - 1));
}

static void resolve(void)
{
    int expected = 0;
    if (!__atomic_compare_exchange_n(&resolved, &expected, 1, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return;
    real.malloc = dlsym(RTLD_NEXT, "malloc");
    real.calloc = dlsym(RTLD_NEXT, "calloc");
    real.realloc = dlsym(RTLD_NEXT, "realloc");
    real.reallocarray = dlsym(RTLD_NEXT, "reallocarray");
    real.free = dlsym(RTLD_NEXT, "free");
    real.posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    real.aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    real.memalign = dlsym(RTLD_NEXT, "memalign");
    real.valloc = dlsym(RTLD_NEXT, "valloc");
    real.pvalloc = dlsym(RTLD_NEXT, "pvalloc");
    /* Allocators without the rarer entry points: those calls go through the common ones. */
    if (!real.reallocarray)
        real.reallocarray = fallback_reallocarray;
    if (!real.aligned_alloc)
        real.aligned_alloc = real.memalign;
    if (!real.pvalloc)
        real.pvalloc = fallback_pvalloc;
    __atomic_store_n(&resolved, 2, __ATOMIC_RELEASE);
}

/* True when the real functions can be called; false while dlsym runs (use the arena). */
static int ready(void)
{
    if (__builtin_expect(__atomic_load_n(&resolved, __ATOMIC_ACQUIRE) == 2, 1))
        return 1;
    resolve();
    return __atomic_load_n(&resolved, __ATOMIC_ACQUIRE) == 2;
}

/* ---- clocks and counters ---- */

static inline uint64_t fenced_tsc(void)
{
    _mm_lfence();
    uint64_t t = __rdtsc();
    _mm_lfence();
    return t;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t minflt(int who)
{
    struct rusage r;
    if (getrusage(who, &r) != 0)
        return 0;
    return (uint64_t)r.ru_minflt;
}

/* ---- the log ---- */

static uint64_t *H;             /* the mapped header */
static uint64_t window;         /* H[H_WINDOW_CYCLES] */
static uint64_t *records;       /* two words a record */
static char *reserve;           /* the address range the log is mapped into */
static uint64_t mapped_records; /* records the mapped chunks hold */
static int log_fd = -1;

/* Maps `bytes` of the log file at `offset` into the reserved range, faulting it in now; its
 * faults are the capture's own. Returns 0 on success. */
static int map_log(uint64_t offset, uint64_t bytes)
{
    uint64_t f0 = minflt(RUSAGE_THREAD);
    if (ftruncate(log_fd, (off_t)(offset + bytes)) != 0)
        return -1;
    void *p = mmap(reserve + offset, bytes, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_FIXED | MAP_POPULATE, log_fd, (off_t)offset);
    if (p == MAP_FAILED)
        return -1;
    if (H)
        __atomic_fetch_add(&H[H_CAPTURE_FAULTS], minflt(RUSAGE_THREAD) - f0, __ATOMIC_RELAXED);
    return 0;
}

static void put_dec(char *out, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *out++ = tmp[--n];
    *out = 0;
}

/* Opens DIR/PID.raw (or DIR/PID-N.raw when an exec'd image of the same pid already has one). */
static int open_log_file(const char *dir, pid_t pid)
{
    char path[4096];
    size_t d = strlen(dir);
    if (d > sizeof path - 64)
        return -1;
    for (unsigned n = 0; n < 1000; n++) {
        memcpy(path, dir, d);
        path[d] = '/';
        put_dec(path + d + 1, (uint64_t)pid);
        if (n) {
            size_t l = strlen(path);
            path[l] = '-';
            put_dec(path + l + 1, n);
        }
        strcat(path, ".raw");
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

/* Starts this process's log in $MEMENTO_CAPTURE_DIR. Leaves capturing off on any failure. */
static void start_log(void)
{
    const char *dir = getenv("MEMENTO_CAPTURE_DIR");
    if (!dir || !*dir)
        return;
    uint64_t t0 = fenced_tsc();
    uint64_t ns0 = now_ns();
    log_fd = open_log_file(dir, getpid());
    if (log_fd < 0)
        return;
    reserve = mmap(NULL, RESERVE_BYTES, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (reserve == MAP_FAILED)
        return;
    H = NULL;
    uint64_t f0 = minflt(RUSAGE_THREAD);
    if (map_log(0, CHUNK_BYTES) != 0)
        return;
    H = (uint64_t *)reserve;
    H[H_CAPTURE_FAULTS] = minflt(RUSAGE_THREAD) - f0;
    records = (uint64_t *)(reserve + HEADER_BYTES);
    mapped_records = (CHUNK_BYTES - HEADER_BYTES) / 16;
    H[H_VERSION] = VERSION;
    H[H_PID] = (uint64_t)getpid();
    H[H_PPID] = (uint64_t)getppid();
    const char *follow = getenv("MEMENTO_CAPTURE_FOLLOW_EXEC");
    H[H_FOLLOW_EXEC] = follow && follow[0] == '1';
    prctl(PR_GET_NAME, (char *)&H[H_COMM], 0, 0, 0);
    /* The timed window's own cost: the least of many empty windows. */
    window = ~0ULL;
    for (int k = 0; k < 1000; k++) {
        uint64_t a = fenced_tsc();
        uint64_t b = fenced_tsc();
        if (b - a < window)
            window = b - a;
    }
    H[H_WINDOW_CYCLES] = window;
    H[H_MINFLT_START] = minflt(RUSAGE_SELF);
    H[H_START_NS] = ns0;
    H[H_START_TSC] = t0;
    H[H_LAST_TSC] = t0;
    /* Setting the log up is the capture's own time too. */
    H[H_OVERHEAD_CYCLES] = fenced_tsc() - t0;
    __atomic_store_n(&H[H_MAGIC], MAGIC, __ATOMIC_RELEASE);
    capturing = 1;
}

/* Room for one more record (under the lock). */
static int room(void)
{
    uint64_t n = H[H_RECORDS];
    if (n < mapped_records)
        return 1;
    if (H[H_TRUNCATED])
        return 0;
    uint64_t offset = HEADER_BYTES + mapped_records * 16;
    if (offset + CHUNK_BYTES > RESERVE_BYTES || map_log(offset, CHUNK_BYTES) != 0) {
        H[H_TRUNCATED] = 1;
        return 0;
    }
    mapped_records += CHUNK_BYTES / 16;
    return 1;
}

static void append(uint64_t kind, uint64_t id, uint64_t size, uint64_t tsc)
{
    if (!room())
        return;
    uint64_t n = H[H_RECORDS];
    records[2 * n] = kind << 56 | id;
    records[2 * n + 1] = size;
    H[H_LAST_TSC] = tsc;
    __atomic_store_n(&H[H_RECORDS], n + 1, __ATOMIC_RELEASE);
}

/* ---- the pointer table: pointer -> (id, size), open addressing, in its own mapping ---- */

struct slot {
    uint64_t ptr, id, size;
};

static struct slot *table;
static uint64_t table_cap; /* a power of two */
static uint64_t table_len;
static uint64_t next_id;

static uint64_t slot_of(uint64_t ptr, uint64_t cap)
{
    return ((ptr >> 4) * 0x9E3779B97F4A7C15ULL) >> (64 - __builtin_ctzll(cap));
}

static struct slot *table_new(uint64_t cap)
{
    uint64_t f0 = minflt(RUSAGE_THREAD);
    void *p = mmap(NULL, cap * sizeof(struct slot), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    __atomic_fetch_add(&H[H_CAPTURE_FAULTS], minflt(RUSAGE_THREAD) - f0, __ATOMIC_RELAXED);
    return p == MAP_FAILED ? NULL : p;
}

static void table_put(struct slot *t, uint64_t cap, struct slot s)
{
    uint64_t i = slot_of(s.ptr, cap);
    while (t[i].ptr)
        i = (i + 1) & (cap - 1);
    t[i] = s;
}

/* Makes room for one more entry; 0 when no memory is left. */
static int table_grow(void)
{
    if (table && 2 * (table_len + 1) <= table_cap)
        return 1;
    uint64_t cap = table ? 2 * table_cap : 1 << 12;
    struct slot *t = table_new(cap);
    if (!t)
        return 0;
    for (uint64_t i = 0; table && i < table_cap; i++)
        if (table[i].ptr)
            table_put(t, cap, table[i]);
    if (table)
        munmap(table, table_cap * sizeof(struct slot));
    table = t;
    table_cap = cap;
    return 1;
}

static struct slot *table_find(uint64_t ptr)
{
    if (!table)
        return NULL;
    for (uint64_t i = slot_of(ptr, table_cap);; i = (i + 1) & (table_cap - 1)) {
        if (table[i].ptr == ptr)
            return &table[i];
        if (!table[i].ptr)
            return NULL;
    }
}

/* Removes a found slot, shifting the entries of its probe run back. */
static void table_remove(struct slot *s)
{
    uint64_t mask = table_cap - 1;
    uint64_t i = (uint64_t)(s - table);
    uint64_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!table[j].ptr)
            break;
        uint64_t home = slot_of(table[j].ptr, table_cap);
        /* Move j into the hole at i unless its home lies cyclically in (i, j]. */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            table[i] = table[j];
            i = j;
        }
    }
    table[i].ptr = 0;
    table_len--;
}

/* ---- recording (each under the lock) ---- */

struct timing {
    uint64_t enter, cycles, faults;
};

static void add(enum field f, uint64_t v)
{
    __atomic_fetch_add(&H[f], v, __ATOMIC_RELAXED);
}

/* Counts a recorded call (atomically: a free counts itself outside the lock). */
static void account(enum kind k, const struct timing *t, int served)
{
    if (!thread_seen) {
        thread_seen = 1;
        add(H_THREADS, 1);
    }
    add(H_CALLS + k, 1);
    add(H_CYCLES + k, t->cycles);
    add(H_FAULTS + k, t->faults);
    if (served) {
        add(H_SERVED_CALLS, 1);
        add(H_SERVED_CYCLES, t->cycles);
        add(H_SERVED_FAULTS, t->faults);
    }
}

static void record_alloc(enum kind k, void *p, size_t size, const struct timing *t)
{
    account(k, t, size <= MAX_OBJECT);
    if (!table_grow())
        return;
    struct slot *old = table_find((uint64_t)p);
    if (old) /* a pointer the allocator handed out again without our seeing its free */
        table_remove(old);
    struct slot s = {(uint64_t)p, next_id++, size};
    table_put(table, table_cap, s);
    table_len++;
    append(R_ALLOC, s.id, size, t->enter);
}

static void record_realloc(enum kind k, void *old, void *p, size_t size, const struct timing *t)
{
    if (!old) {
        record_alloc(k, p, size, t);
        return;
    }
    struct slot *s = table_find((uint64_t)old);
    if (!s) {
        add(H_UNTRACKED_REALLOCS, 1);
        if (p)
            record_alloc(k, p, size, t);
        return;
    }
    if (!p) {
        if (size == 0) { /* glibc frees the object and returns no memory */
            account(k, t, s->size <= MAX_OBJECT);
            append(R_FREE, s->id, 0, t->enter);
            table_remove(s);
        } else {
            add(H_FAILED_CALLS, 1);
        }
        return;
    }
    account(k, t, s->size <= MAX_OBJECT && size <= MAX_OBJECT);
    struct slot moved = {(uint64_t)p, s->id, size};
    if (p == old) {
        s->size = size;
    } else {
        table_remove(s);
        struct slot *stale = table_find((uint64_t)p);
        if (stale)
            table_remove(stale);
        table_put(table, table_cap, moved);
        table_len++;
    }
    append(R_REALLOC, moved.id, size, t->enter);
}

/* ---- the timed window around a real call ---- */

#define BEGIN(t)                                                                               \
    int saved_errno = errno;                                                                   \
    (t).enter = __rdtsc();                                                                     \
    uint64_t f0_ = minflt(RUSAGE_THREAD);                                                      \
    errno = saved_errno;                                                                       \
    uint64_t c0_ = fenced_tsc();

#define END(t)                                                                                 \
    uint64_t c1_ = fenced_tsc();                                                               \
    saved_errno = errno;                                                                       \
    (t).cycles = c1_ - c0_ > window ? c1_ - c0_ - window : 0;                                  \
    (t).faults = minflt(RUSAGE_THREAD) - f0_;

/* After the bookkeeping: the capture's own cycles, and errno as the real call left it. */
static void finish(const struct timing *t, int saved_errno)
{
    uint64_t spent = __rdtsc() - t->enter;
    if (H && spent > t->cycles)
        add(H_OVERHEAD_CYCLES, spent - t->cycles);
    errno = saved_errno;
}

static int recording(void)
{
    return capturing && !in_hook;
}

/* ---- the entry points ---- */

#define ALLOC_HOOK(kind, size_expr, call)                                                      \
    if (!recording())                                                                          \
        return call;                                                                           \
    in_hook = 1;                                                                               \
    struct timing t;                                                                           \
    BEGIN(t)                                                                                   \
    void *p = call;                                                                            \
    END(t)                                                                                     \
    pthread_mutex_lock(&lock);                                                                 \
    if (p)                                                                                     \
        record_alloc(kind, p, size_expr, &t);                                                  \
    else                                                                                       \
        add(H_FAILED_CALLS, 1);                                                                   \
    pthread_mutex_unlock(&lock);                                                               \
    in_hook = 0;                                                                               \
    finish(&t, saved_errno);                                                                   \
    return p;

void *malloc(size_t n)
{
    if (!ready())
        return boot_alloc(n, 16);
    ALLOC_HOOK(K_MALLOC, n, real.malloc(n))
}

void *calloc(size_t n, size_t m)
{
    if (!ready())
        return boot_alloc(n * m, 16);
    ALLOC_HOOK(K_CALLOC, n * m, real.calloc(n, m))
}

void *aligned_alloc(size_t align, size_t n)
{
    if (!ready())
        return boot_alloc(n, align);
    if (recording())
        add(H_ALIGNED_CALLS, 1);
    ALLOC_HOOK(K_ALIGNED_ALLOC, n, real.aligned_alloc(align, n))
}

void *memalign(size_t align, size_t n)
{
    if (!ready())
        return boot_alloc(n, align);
    if (recording())
        add(H_ALIGNED_CALLS, 1);
    ALLOC_HOOK(K_MEMALIGN, n, real.memalign(align, n))
}

void *valloc(size_t n)
{
    if (!ready())
        return boot_alloc(n, 4096);
    if (recording())
        add(H_ALIGNED_CALLS, 1);
    ALLOC_HOOK(K_VALLOC, n, real.valloc(n))
}

void *pvalloc(size_t n)
{
    if (!ready())
        return boot_alloc((n + 4095) & ~4095UL, 4096);
    if (recording())
        add(H_ALIGNED_CALLS, 1);
    ALLOC_HOOK(K_PVALLOC, n, real.pvalloc(n))
}

int posix_memalign(void **out, size_t align, size_t n)
{
    if (!ready()) {
        *out = boot_alloc(n, align);
        return *out ? 0 : ENOMEM;
    }
    if (!recording())
        return real.posix_memalign(out, align, n);
    add(H_ALIGNED_CALLS, 1);
    in_hook = 1;
    struct timing t;
    BEGIN(t)
    int rc = real.posix_memalign(out, align, n);
    END(t)
    pthread_mutex_lock(&lock);
    if (rc == 0)
        record_alloc(K_POSIX_MEMALIGN, *out, n, &t);
    else
        add(H_FAILED_CALLS, 1);
    pthread_mutex_unlock(&lock);
    in_hook = 0;
    finish(&t, saved_errno);
    return rc;
}

void free(void *p)
{
    if (!p || in_boot(p))
        return;
    if (!ready() || !recording()) {
        real.free(p);
        return;
    }
    in_hook = 1;
    struct timing t = {__rdtsc(), 0, 0};
    /* Recorded before the real free: once it returns, another thread may get p back. */
    pthread_mutex_lock(&lock);
    struct slot *s = table_find((uint64_t)p);
    int served = s && s->size <= MAX_OBJECT;
    if (s) {
        append(R_FREE, s->id, 0, t.enter);
        table_remove(s);
    } else {
        add(H_UNTRACKED_FREES, 1);
    }
    pthread_mutex_unlock(&lock);
    int saved_errno = errno;
    uint64_t f0 = minflt(RUSAGE_THREAD);
    uint64_t c0 = fenced_tsc();
    real.free(p);
    uint64_t c1 = fenced_tsc();
    t.cycles = c1 - c0 > window ? c1 - c0 - window : 0;
    t.faults = minflt(RUSAGE_THREAD) - f0;
    account(K_FREE, &t, served);
    in_hook = 0;
    finish(&t, saved_errno);
}

static void *realloc_common(enum kind k, void *old, size_t n, void *(*call)(void *, size_t, size_t),
                            size_t a, size_t b)
{
    if (!recording())
        return call(old, a, b);
    in_hook = 1;
    struct timing t;
    pthread_mutex_lock(&lock);
    BEGIN(t)
    void *p = call(old, a, b);
    END(t)
    record_realloc(k, old, p, n, &t);
    pthread_mutex_unlock(&lock);
    in_hook = 0;
    finish(&t, saved_errno);
    return p;
}

static void *call_realloc(void *old, size_t n, size_t unused)
{
    (void)unused;
    return real.realloc(old, n);
}

static void *call_reallocarray(void *old, size_t n, size_t m)
{
    return real.reallocarray(old, n, m);
}

static void *realloc_boot(void *old, size_t n)
{
    void *p = ready() ? malloc(n) : boot_alloc(n, 16);
    if (p && old) {
        size_t have = boot_size(old);
        memcpy(p, old, have < n ? have : n);
    }
    return p;
}

void *realloc(void *old, size_t n)
{
    if (!ready() || in_boot(old))
        return realloc_boot(old, n);
    return realloc_common(K_REALLOC, old, n, call_realloc, n, 0);
}

void *reallocarray(void *old, size_t n, size_t m)
{
    size_t bytes;
    if (__builtin_mul_overflow(n, m, &bytes)) {
        errno = ENOMEM;
        return NULL;
    }
    if (!ready() || in_boot(old))
        return realloc_boot(old, bytes);
    return realloc_common(K_REALLOCARRAY, old, bytes, call_reallocarray, n, m);
}

/* ---- process life ---- */

static void before_fork(void)
{
    pthread_mutex_lock(&lock);
}

static void after_fork_parent(void)
{
    pthread_mutex_unlock(&lock);
}

/* The child: its own log and an empty table (inherited objects are not in its trace). */
static void after_fork_child(void)
{
    pthread_mutex_unlock(&lock);
    if (!capturing)
        return;
    capturing = 0;
    thread_seen = 0;
    munmap(reserve, RESERVE_BYTES);
    close(log_fd);
    H = NULL;
    records = NULL;
    if (table)
        munmap(table, table_cap * sizeof(struct slot));
    table = NULL;
    table_cap = table_len = next_id = 0;
    start_log();
}

/* Removes the token $MEMENTO_CAPTURE_LIB from LD_PRELOAD in place (no allocation). */
static void leave_exec_alone(void)
{
    const char *lib = getenv("MEMENTO_CAPTURE_LIB");
    char *pre = getenv("LD_PRELOAD");
    if (!lib || !*lib || !pre)
        return;
    size_t l = strlen(lib);
    char *w = pre;
    const char *r = pre;
    int first = 1;
    while (*r) {
        while (*r == ':' || *r == ' ')
            r++;
        const char *e = r;
        while (*e && *e != ':' && *e != ' ')
            e++;
        if (e > r && !((size_t)(e - r) == l && memcmp(r, lib, l) == 0)) {
            if (!first)
                *w++ = ':';
            memmove(w, r, (size_t)(e - r));
            w += e - r;
            first = 0;
        }
        r = e;
    }
    *w = 0;
    if (!*pre)
        unsetenv("LD_PRELOAD");
}

__attribute__((constructor(101))) static void capture_start(void)
{
    ready();
    const char *follow = getenv("MEMENTO_CAPTURE_FOLLOW_EXEC");
    if (!(follow && follow[0] == '1'))
        leave_exec_alone();
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
    pthread_mutex_lock(&lock);
    start_log();
    pthread_mutex_unlock(&lock);
}

__attribute__((destructor(101))) static void capture_end(void)
{
    if (!capturing)
        return;
    pthread_mutex_lock(&lock);
    H[H_END_TSC] = fenced_tsc();
    H[H_END_NS] = now_ns();
    H[H_MINFLT_END] = minflt(RUSAGE_SELF);
    H[H_STATE] = 1;
    pthread_mutex_unlock(&lock);
}
