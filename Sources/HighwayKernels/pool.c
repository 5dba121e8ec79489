/*
 * A persistent thread pool with a cheap fork/join (DESIGN.md decision 6).
 *
 * Workers spin briefly on a generation counter and then sleep on a condition variable, so a join
 * costs about a microsecond when work arrives in bursts (a training step) and nothing when idle.
 * Task i always runs on thread i % threads (the caller is thread 0): the split of work, and so the
 * order of floating-point sums, depends only on the thread count.
 */
#include "hk_kernels.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#define HK_MAX_THREADS 256
#define HK_SPIN_ITERATIONS 20000

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
/* One fork/join at a time: Swift callers (tests run in parallel) may call from several threads. */
static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_wake = PTHREAD_COND_INITIALIZER;
static pthread_t workers[HK_MAX_THREADS];
static atomic_int pool_size = 0; /* threads including the caller; 0 = not started */
static atomic_long generation = 0;
static atomic_int pending = 0;
static atomic_int shutting_down = 0;
static hk_task_fn task_fn;
static void *task_ctx;
static long task_count;
/* the generation workers start from: read at spawn, not when a new thread first runs, or a run
 * published in between would be missed and its join would wait forever */
static long spawn_generation;
static _Thread_local int inside_task = 0;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static void run_share(int tid, int threads) {
    inside_task = 1;
    for (long i = tid; i < task_count; i += threads) task_fn(task_ctx, i);
    inside_task = 0;
}

static void run_share_with(hk_task_fn fn, void *ctx, long count) {
    inside_task = 1;
    for (long i = 0; i < count; i++) fn(ctx, i);
    inside_task = 0;
}

static void *worker_main(void *arg) {
    int tid = (int)(long)arg;
    long seen = spawn_generation;
    for (;;) {
        long now;
        int spins = 0;
        while ((now = atomic_load_explicit(&generation, memory_order_acquire)) == seen &&
               spins < HK_SPIN_ITERATIONS) {
            cpu_relax();
            spins++;
        }
        if (now == seen) {
            pthread_mutex_lock(&pool_lock);
            while ((now = atomic_load_explicit(&generation, memory_order_acquire)) == seen)
                pthread_cond_wait(&pool_wake, &pool_lock);
            pthread_mutex_unlock(&pool_lock);
        }
        seen = now;
        if (atomic_load_explicit(&shutting_down, memory_order_acquire)) return 0;
        run_share(tid, pool_size);
        atomic_fetch_sub_explicit(&pending, 1, memory_order_acq_rel);
    }
}

static int default_threads(void) {
    const char *env = getenv("HIGHWAY_THREADS");
    if (env && *env) {
        char *end;
        long v = strtol(env, &end, 10);
        if (*end == 0 && v >= 1) return v > HK_MAX_THREADS ? HK_MAX_THREADS : (int)v;
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1) cores = 1;
    return cores > HK_MAX_THREADS ? HK_MAX_THREADS : (int)cores;
}

static void broadcast_generation(void) {
    pthread_mutex_lock(&pool_lock);
    atomic_fetch_add_explicit(&generation, 1, memory_order_acq_rel);
    pthread_cond_broadcast(&pool_wake);
    pthread_mutex_unlock(&pool_lock);
}

static void stop_workers(void) {
    if (pool_size <= 1) return;
    atomic_store(&shutting_down, 1);
    broadcast_generation();
    for (int t = 1; t < pool_size; t++) pthread_join(workers[t], 0);
    atomic_store(&shutting_down, 0);
}

static void start_workers(int n) {
    pool_size = n;
    spawn_generation = atomic_load_explicit(&generation, memory_order_acquire);
    for (int t = 1; t < n; t++) {
        if (pthread_create(&workers[t], 0, worker_main, (void *)(long)t) != 0) {
            pool_size = t; /* run with the threads we could get */
            break;
        }
    }
}

static void ensure_started(void) {
    if (pool_size == 0) start_workers(default_threads());
}

int hk_pool_threads(void) {
    /* no lock once started: tasks ask this while a run holds run_lock */
    int n = atomic_load(&pool_size);
    if (n > 0) return n;
    pthread_mutex_lock(&run_lock);
    ensure_started();
    n = pool_size;
    pthread_mutex_unlock(&run_lock);
    return n;
}

void hk_pool_set_threads(int n) {
    if (n < 1) n = 1;
    if (n > HK_MAX_THREADS) n = HK_MAX_THREADS;
    pthread_mutex_lock(&run_lock);
    if (pool_size != n) {
        stop_workers();
        start_workers(n);
    }
    pthread_mutex_unlock(&run_lock);
}

void hk_pool_run(long count, hk_task_fn fn, void *ctx) {
    if (count <= 0) return;
    if (count == 1 || inside_task) {
        int was_inside = inside_task;
        inside_task = 1;
        for (long i = 0; i < count; i++) fn(ctx, i);
        inside_task = was_inside;
        return;
    }
    pthread_mutex_lock(&run_lock);
    ensure_started();
    int threads = pool_size;
    if (threads == 1) {
        run_share_with(fn, ctx, count);
        pthread_mutex_unlock(&run_lock);
        return;
    }
    task_fn = fn;
    task_ctx = ctx;
    task_count = count;
    atomic_store_explicit(&pending, threads - 1, memory_order_release);
    broadcast_generation();
    run_share(0, threads);
    while (atomic_load_explicit(&pending, memory_order_acquire) != 0) cpu_relax();
    pthread_mutex_unlock(&run_lock);
}
