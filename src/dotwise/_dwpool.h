/*
 * dotwise/_dwpool.h — a small pool of C threads for the compiled loops (private).
 *
 *   int dw_pool_run(dw_stripe_fn fn, void *ctx, int64_t n, int64_t stripes, int nthreads)
 *
 * calls fn(ctx, y0, y1) on `stripes` row ranges covering [0, n) with up to `nthreads`
 * threads, the calling thread one of them, and returns their statuses combined (see
 * dw_pool_status). Each thread takes the next free stripe, so a thread that starts late
 * (a worker still waking up, a core busy with other work) costs at most one stripe.
 *
 * Why not Python's pool: a ~0.5 ms filter of a photo split over two Python threads
 * measured slower than one thread (the hand-off, the GIL, and the caller sleeping on a
 * future, each a wake-up of a few tens of µs on a virtual machine). Here the caller
 * starts on its own stripes at once, a worker joins when it wakes, and the caller
 * waits for the last stripe by spinning, never asleep.
 *
 * Workers spin for DW_POOL_SPIN_NS after their last stripe (back-to-back calls hand over
 * in about a microsecond) and then sleep on a condition variable, so an idle dotwise
 * holds no core: OpenMP runtimes spin for milliseconds, which slows whatever else the
 * process runs next on a small machine.
 *
 * Safe to call from several threads at once (a call that finds the pool busy runs its
 * stripes on its own thread) and after fork() (the child starts a fresh pool). Without
 * POSIX threads (Windows builds) every call runs serially and dw_pool_threaded() is 0.
 *
 * Claims carry the job's generation: `dw_pool_state` packs (generation << 32 | next
 * stripe), and a stripe is taken by a compare-and-swap on that word, so a worker that
 * wakes late, holding the parameters of a finished job, cannot take a stripe of the
 * next one. A job's parameters are rewritten only after all of its stripes are done.
 */
#ifndef DW_POOL_H
#define DW_POOL_H

#include <stdint.h>
#include <string.h>

#if defined(_WIN32)
#define DW_POOL_THREADS 0
#else
#define DW_POOL_THREADS 1
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#endif

#ifndef DW_POOL_SPIN_NS
#define DW_POOL_SPIN_NS 50000          /* a worker's spin before it sleeps: 50 µs */
#endif
#define DW_POOL_MAX 63                 /* workers besides the caller */

typedef int (*dw_stripe_fn)(void *ctx, int64_t y0, int64_t y1);

/* Stripe statuses -> one: -1 (out of memory) over 1 (bad input found, stop) over any
 * other non-zero value (the largest) over 0 (done). 1 and -1 stop the other stripes. */
#define DW_POOL_OOM 1
#define DW_POOL_STOP 2

static int dw_pool_bit(int st)          /* the flag a stopping status sets (else 0) */
{
    return st == -1 ? DW_POOL_OOM : st == 1 ? DW_POOL_STOP : 0;
}

static int dw_pool_fold(int flags, int worst)
{
    if (flags & DW_POOL_OOM) return -1;
    if (flags & DW_POOL_STOP) return 1;
    return worst;
}

#if DW_POOL_THREADS
static inline void dw_pool_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static int64_t dw_pool_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static struct {
    pid_t pid;                          /* the process the pool belongs to (fork) */
    pthread_mutex_t call;               /* held by the caller of the running job */
    pthread_mutex_t mu;                 /* with cv: sleeping workers */
    pthread_cond_t cv;
    int workers;                        /* started so far */
    uint64_t state;                     /* generation << 32 | next stripe */
    int64_t done;                       /* stripes finished (or skipped after a stop) */
    int flags, worst, stop;
    /* the job (rewritten only between jobs) */
    dw_stripe_fn fn;
    void *ctx;
    int64_t n, stripes;
    int nthreads;
} dw_pool;

static inline uint32_t dw_pool_generation(void)
{
    return (uint32_t)(__atomic_load_n(&dw_pool.state, __ATOMIC_ACQUIRE) >> 32);
}

/* Take and run stripes of job `gen` until none is left (or the job is not `gen`). */
static void dw_pool_work(uint32_t gen)
{
    for (;;) {
        uint64_t s = __atomic_load_n(&dw_pool.state, __ATOMIC_ACQUIRE);
        if ((uint32_t)(s >> 32) != gen) return;
        const dw_stripe_fn fn = dw_pool.fn;
        void *const ctx = dw_pool.ctx;
        const int64_t n = dw_pool.n, stripes = dw_pool.stripes;
        const int64_t i = (int64_t)(uint32_t)s;
        if (i >= stripes) return;
        if (!__atomic_compare_exchange_n(&dw_pool.state, &s, s + 1, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE))
            continue;                   /* someone else took it, or a new job began */
        if (!__atomic_load_n(&dw_pool.stop, __ATOMIC_ACQUIRE)) {
            const int st = fn(ctx, n * i / stripes, n * (i + 1) / stripes);
            if (dw_pool_bit(st)) {
                __atomic_fetch_or(&dw_pool.flags, dw_pool_bit(st), __ATOMIC_RELAXED);
                __atomic_store_n(&dw_pool.stop, 1, __ATOMIC_RELEASE);
            } else if (st) {
                int w = __atomic_load_n(&dw_pool.worst, __ATOMIC_RELAXED);
                while (st > w && !__atomic_compare_exchange_n(&dw_pool.worst, &w, st, 0,
                                                              __ATOMIC_RELAXED,
                                                              __ATOMIC_RELAXED)) {}
            }
        }
        __atomic_add_fetch(&dw_pool.done, 1, __ATOMIC_RELEASE);
    }
}

static void *dw_pool_worker(void *arg)
{
    const int index = (int)(intptr_t)arg;
    uint32_t seen = dw_pool_generation();
    for (;;) {
        uint32_t g = dw_pool_generation();
        const int64_t until = dw_pool_now_ns() + DW_POOL_SPIN_NS;
        for (int k = 1; g == seen; k++) {
            dw_pool_pause();
            if (k % 64 == 0 && dw_pool_now_ns() > until) {
                pthread_mutex_lock(&dw_pool.mu);
                while ((g = dw_pool_generation()) == seen)
                    pthread_cond_wait(&dw_pool.cv, &dw_pool.mu);
                pthread_mutex_unlock(&dw_pool.mu);
                break;
            }
            g = dw_pool_generation();
        }
        seen = g;
        /* a stale read of nthreads only makes this worker skip or try a job; the
         * compare-and-swap in dw_pool_work decides what it runs */
        if (index < __atomic_load_n(&dw_pool.nthreads, __ATOMIC_RELAXED) - 1)
            dw_pool_work(g);
    }
    return NULL;
}

static void dw_pool_reset(void)         /* first use, and in a forked child */
{
    memset(&dw_pool, 0, sizeof dw_pool);
    pthread_mutex_init(&dw_pool.call, NULL);
    pthread_mutex_init(&dw_pool.mu, NULL);
    pthread_cond_init(&dw_pool.cv, NULL);
    dw_pool.pid = getpid();
}

static pthread_mutex_t dw_pool_init_lock = PTHREAD_MUTEX_INITIALIZER;

/* Start workers until `want` exist (fewer if the system refuses); signals stay with
 * the interpreter's threads. */
static void dw_pool_grow(int want)
{
    if (want > DW_POOL_MAX) want = DW_POOL_MAX;
    if (dw_pool.workers >= want) return;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    while (dw_pool.workers < want) {
        pthread_t t;
        if (pthread_create(&t, &attr, dw_pool_worker, (void *)(intptr_t)dw_pool.workers))
            break;
        dw_pool.workers++;
    }
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}
#endif /* DW_POOL_THREADS */

static int dw_pool_serial(dw_stripe_fn fn, void *ctx, int64_t n, int64_t stripes)
{
    int flags = 0, worst = 0;
    for (int64_t i = 0; i < stripes && !flags; i++) {
        const int st = fn(ctx, n * i / stripes, n * (i + 1) / stripes);
        flags |= dw_pool_bit(st);
        if (!dw_pool_bit(st) && st > worst) worst = st;
    }
    return dw_pool_fold(flags, worst);
}

static int dw_pool_run(dw_stripe_fn fn, void *ctx, int64_t n, int64_t stripes, int nthreads)
{
    if (stripes > n) stripes = n;
    if (stripes > 0xFFFFFFF) stripes = 0xFFFFFFF;
    if (stripes < 1) return 0;
#if DW_POOL_THREADS
    if (nthreads > 1 && stripes > 1) {
        pthread_mutex_lock(&dw_pool_init_lock);
        if (dw_pool.pid != getpid()) dw_pool_reset();
        pthread_mutex_unlock(&dw_pool_init_lock);
        if (pthread_mutex_trylock(&dw_pool.call) == 0) {
            dw_pool_grow(nthreads - 1);
            dw_pool.fn = fn;
            dw_pool.ctx = ctx;
            dw_pool.n = n;
            dw_pool.stripes = stripes;
            dw_pool.done = 0;
            dw_pool.flags = dw_pool.worst = dw_pool.stop = 0;
            __atomic_store_n(&dw_pool.nthreads, nthreads, __ATOMIC_RELAXED);
            const uint32_t gen = dw_pool_generation() + 1;
            __atomic_store_n(&dw_pool.state, (uint64_t)gen << 32, __ATOMIC_RELEASE);
            pthread_mutex_lock(&dw_pool.mu);
            pthread_cond_broadcast(&dw_pool.cv);
            pthread_mutex_unlock(&dw_pool.mu);
            dw_pool_work(gen);
            for (int k = 1; __atomic_load_n(&dw_pool.done, __ATOMIC_ACQUIRE) < stripes; k++) {
                if (k < 4096) dw_pool_pause();        /* the last stripes: spin a little, */
                else sched_yield();                   /* then give the core away */
            }
            const int status = dw_pool_fold(dw_pool.flags, dw_pool.worst);
            pthread_mutex_unlock(&dw_pool.call);
            return status;
        }
    }
#else
    (void)nthreads;
#endif
    return dw_pool_serial(fn, ctx, n, stripes);
}

static int dw_pool_threaded(void) { return DW_POOL_THREADS; }

#endif /* DW_POOL_H */
