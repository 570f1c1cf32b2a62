/*
 * master-worker: a master process plus one single-threaded event-loop worker per
 * core (the nginx shape).
 *
 * The master only accepts: it hands each new socket to the next worker in turn
 * (round-robin) as an SCM_RIGHTS message over a Unix-domain socketpair, then
 * closes its own copy. Each worker runs the same epoll loop as the event-loop
 * server on the sockets it receives. The master supervises: it learns of
 * SIGCHLD, SIGTERM and SIGINT through a signalfd in its poll() set, reaps with a
 * waitpid(WNOHANG) loop, and forks a replacement for any worker that died.
 */
#define _GNU_SOURCE
#include "children.h"
#include "event_loop_core.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

struct worker {
    pid_t pid;  /* 0: dead, to be replaced */
    int sock;   /* the master's end of the socketpair; -1 when dead */
};

static struct options opts;
static struct worker *workers;
static struct children kids;
static int listen_fd, signal_fd;
static bool stopping;

static _Noreturn void worker_main(int i, int sock, pid_t master)
{
    /* Keep only our own end of our own socketpair: an inherited copy of the
     * listener or of another worker's channel would keep it open after death. */
    xclose(listen_fd);
    xclose(signal_fd);
    for (int j = 0; j < opts.workers; j++)
        if (j != i && workers[j].sock >= 0)
            xclose(workers[j].sock);
    free(workers);
    free(kids.pid);
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
        die("prctl");
    if (getppid() != master)
        exit(0);
    int stop_fd = install_stop_handlers(-1);
    block_signals(false); /* blocked in the master for its signalfd */
    event_loop_run(&opts, -1, sock, stop_fd); /* closes sock when draining */
    exit(0);
}

static void spawn_worker(int i)
{
    /* SEQPACKET keeps message boundaries: one message, one descriptor. */
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        die("socketpair");
    pid_t master = getpid();
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        xclose(sv[0]);
        worker_main(i, sv[1], master);
    }
    xclose(sv[1]);
    workers[i] = (struct worker){.pid = pid, .sock = sv[0]};
    children_add(&kids, pid);
}

static void on_worker_exit(pid_t pid, int status)
{
    for (int i = 0; i < opts.workers; i++) {
        if (workers[i].pid != pid)
            continue;
        if (!stopping) {
            if (WIFSIGNALED(status))
                fprintf(stderr, "master-worker: worker %d killed by signal %d, replacing it\n",
                        (int)pid, WTERMSIG(status));
            else
                fprintf(stderr, "master-worker: worker %d exited with status %d, replacing it\n",
                        (int)pid, WEXITSTATUS(status));
        }
        if (workers[i].sock >= 0)
            xclose(workers[i].sock);
        workers[i] = (struct worker){.pid = 0, .sock = -1};
    }
}

/* Sends fd to the next worker that can take it; the caller closes its copy. */
static bool pass_to_worker(int fd)
{
    static int next;
    for (int tries = 0; tries < opts.workers; tries++) {
        struct worker *w = &workers[next];
        next = (next + 1) % opts.workers;
        if (w->sock < 0)
            continue;
        char byte = 0;
        struct iovec iov = {.iov_base = &byte, .iov_len = 1};
        union {
            struct cmsghdr align;
            char buf[CMSG_SPACE(sizeof(int))];
        } control;
        memset(&control, 0, sizeof control);
        struct msghdr msg = {
            .msg_iov = &iov,
            .msg_iovlen = 1,
            .msg_control = control.buf,
            .msg_controllen = sizeof control.buf,
        };
        struct cmsghdr *h = CMSG_FIRSTHDR(&msg);
        h->cmsg_level = SOL_SOCKET;
        h->cmsg_type = SCM_RIGHTS;
        h->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(h), &fd, sizeof fd);
        /* DONTWAIT: a stuck worker must not stall the master; try the next one.
         * NOSIGNAL: a dead worker gives EPIPE, not SIGPIPE. */
        ssize_t n;
        while ((n = sendmsg(w->sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL)) < 0 && errno == EINTR)
            ;
        if (n == 1)
            return true;
        if (errno != EAGAIN && errno != EPIPE && errno != ECONNREFUSED && errno != ECONNRESET)
            warn("sendmsg(SCM_RIGHTS)");
    }
    return false;
}

/* A connection no worker could take yet (all busy or being replaced); while we
 * hold one we accept no more, so later clients wait in the backlog. */
static int pending_fd = -1;

static void accept_clients(int64_t *resume)
{
    for (int i = 0; i < 64; i++) {
        if (pending_fd < 0) {
            pending_fd = accept_client(listen_fd, SOCK_NONBLOCK);
            if (pending_fd < 0) {
                if (accept_error_is_resource(errno))
                    *resume = now_ms() + 100; /* stop polling the listener a while, or spin */
                return;                       /* EAGAIN (empty queue) or EINTR */
            }
        }
        if (!pass_to_worker(pending_fd)) {
            *resume = now_ms() + 100; /* keep it, retry in 100 ms */
            return;
        }
        xclose(pending_fd); /* the worker has its own copy now */
        pending_fd = -1;
    }
}

static void handle_signals(void)
{
    struct signalfd_siginfo si;
    for (;;) {
        ssize_t n = read(signal_fd, &si, sizeof si);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return;
            die("read(signalfd)");
        }
        if (n != sizeof si)
            return;
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
            stopping = true;
        } else if (si.ssi_signo == SIGCHLD) {
            /* One SIGCHLD may stand for several exits: reap in a loop. */
            children_reap(&kids, on_worker_exit);
            for (int i = 0; i < opts.workers && !stopping; i++)
                if (workers[i].pid == 0)
                    spawn_worker(i);
        }
    }
}

int main(int argc, char **argv)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1)
        cores = 1;
    parse_options(argc, argv, &opts, cores > 1024 ? 1024 : (int)cores);
    raise_fd_limit();
    listen_fd = open_listener(&opts, true);
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die("signal(SIGPIPE)");

    /* Signals become readable events in the poll() loop, never interruptions. */
    block_signals(true);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signal_fd < 0)
        die("signalfd");

    workers = calloc((size_t)opts.workers, sizeof *workers);
    if (workers == NULL)
        die("calloc");
    for (int i = 0; i < opts.workers; i++)
        workers[i].sock = -1;
    for (int i = 0; i < opts.workers; i++)
        spawn_worker(i);
    print_ready_line(listen_fd); /* every worker exists */

    int64_t resume = 0; /* > 0: accepting paused (out of fds, or workers full) until then */
    while (!stopping) {
        int64_t now = now_ms();
        if (resume > 0 && now >= resume) {
            resume = 0;
            if (pending_fd >= 0) {
                accept_clients(&resume); /* retry the held connection first */
                continue;
            }
        }
        struct pollfd p[2] = {
            {signal_fd, POLLIN, 0},
            {resume > 0 ? -1 : listen_fd, POLLIN, 0},
        };
        if (poll(p, 2, resume > 0 ? (int)(resume - now) : -1) < 0) {
            if (errno == EINTR)
                continue;
            die("poll");
        }
        if (p[0].revents)
            handle_signals();
        if (p[1].revents && !stopping)
            accept_clients(&resume);
    }

    /* Drain: stop accepting, let the workers finish their sessions, reap them all.
     * Closing our ends tells them too (EOF), should a SIGTERM be lost. */
    xclose(listen_fd);
    if (pending_fd >= 0)
        close_gracefully(pending_fd);
    for (int i = 0; i < opts.workers; i++)
        if (workers[i].sock >= 0)
            xclose(workers[i].sock);
    for (int i = 0; i < opts.workers; i++)
        workers[i].sock = -1;
    children_stop(&kids, opts.grace_ms, NULL);
    xclose(signal_fd);
    free(workers);
    return 0;
}
