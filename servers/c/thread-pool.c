/*
 * thread-pool: N worker threads take whole sessions from a shared queue.
 *
 * The main thread only accepts, and pushes each new socket into a bounded FIFO
 * guarded by a mutex and two condition variables (the classic producer/consumer).
 * A worker pops a socket and serves that client to the end, so N clients are
 * served at once; the others wait in the queue, then in the listen backlog.
 * Signals are taken by one dedicated thread with sigwait(), so no handler ever
 * has to touch a mutex or a condition variable.
 */
#define _GNU_SOURCE
#include "protocol.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#define QUEUE_CAP 64 /* accepted but not yet served; beyond this, the backlog waits */

static struct {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    int fd[QUEUE_CAP];
    size_t head, len;
    bool closed; /* draining: nothing more is pushed or popped */
} queue = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .not_empty = PTHREAD_COND_INITIALIZER,
    .not_full = PTHREAD_COND_INITIALIZER,
};

static struct options opts;
static int stop_fd;

/* pthread functions return the error instead of setting errno. */
static void pcheck(int rc, const char *what)
{
    if (rc != 0) {
        errno = rc;
        die(what);
    }
}

/* Blocks while the queue is full; false once draining. */
static bool queue_push(int fd)
{
    pcheck(pthread_mutex_lock(&queue.lock), "pthread_mutex_lock");
    while (queue.len == QUEUE_CAP && !queue.closed)
        pcheck(pthread_cond_wait(&queue.not_full, &queue.lock), "pthread_cond_wait");
    bool ok = !queue.closed;
    if (ok) {
        queue.fd[(queue.head + queue.len) % QUEUE_CAP] = fd;
        queue.len++;
        pcheck(pthread_cond_signal(&queue.not_empty), "pthread_cond_signal");
    }
    pcheck(pthread_mutex_unlock(&queue.lock), "pthread_mutex_unlock");
    return ok;
}

/* Blocks while the queue is empty; -1 once draining. */
static int queue_pop(void)
{
    pcheck(pthread_mutex_lock(&queue.lock), "pthread_mutex_lock");
    while (queue.len == 0 && !queue.closed)
        pcheck(pthread_cond_wait(&queue.not_empty, &queue.lock), "pthread_cond_wait");
    int fd = -1;
    if (!queue.closed) {
        fd = queue.fd[queue.head];
        queue.head = (queue.head + 1) % QUEUE_CAP;
        queue.len--;
        pcheck(pthread_cond_signal(&queue.not_full), "pthread_cond_signal");
    }
    pcheck(pthread_mutex_unlock(&queue.lock), "pthread_mutex_unlock");
    return fd;
}

static void *worker(void *arg)
{
    (void)arg;
    int fd;
    while ((fd = queue_pop()) >= 0)
        serve_session(fd, &opts, stop_fd); /* the whole session, to the end */
    return NULL;
}

static void *signal_thread(void *arg)
{
    (void)arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    int sig;
    pcheck(sigwait(&set, &sig), "sigwait");

    /* Wakes the workers' poll() (stop pipe) and the main thread's accept()
     * (listener shut down); then the threads waiting on the queue. */
    request_stop();
    pcheck(pthread_mutex_lock(&queue.lock), "pthread_mutex_lock");
    queue.closed = true;
    pcheck(pthread_cond_broadcast(&queue.not_empty), "pthread_cond_broadcast");
    pcheck(pthread_cond_broadcast(&queue.not_full), "pthread_cond_broadcast");
    pcheck(pthread_mutex_unlock(&queue.lock), "pthread_mutex_unlock");
    return NULL;
}

int main(int argc, char **argv)
{
    parse_options(argc, argv, &opts, 5);
    int listen_fd = open_listener(&opts, false);
    /* The pipe and the listener for request_stop(); its handlers never run, since
     * every thread blocks the signals (the mask is inherited by pthread_create). */
    stop_fd = install_stop_handlers(listen_fd);
    block_signals(true);

    pthread_t sig_tid;
    pthread_t *tids = calloc((size_t)opts.workers, sizeof *tids);
    if (tids == NULL)
        die("calloc");
    pcheck(pthread_create(&sig_tid, NULL, signal_thread, NULL), "pthread_create");
    for (int i = 0; i < opts.workers; i++)
        pcheck(pthread_create(&tids[i], NULL, worker, NULL), "pthread_create");
    print_ready_line(listen_fd);

    /* Ends when the signal thread shuts the listener down, or the queue closes. */
    int fd;
    while ((fd = accept_next_client(listen_fd, stop_fd)) >= 0) {
        if (!queue_push(fd)) {
            close_gracefully(fd);
            break;
        }
    }

    /* Sessions in progress finish their acks (each within the grace period)... */
    for (int i = 0; i < opts.workers; i++)
        pcheck(pthread_join(tids[i], NULL), "pthread_join");
    pcheck(pthread_join(sig_tid, NULL), "pthread_join");
    /* ...and clients still queued, never served, are closed with a FIN. */
    while (queue.len > 0) {
        close_gracefully(queue.fd[queue.head]);
        queue.head = (queue.head + 1) % QUEUE_CAP;
        queue.len--;
    }
    free(tids);
    xclose(listen_fd);
    return 0;
}
