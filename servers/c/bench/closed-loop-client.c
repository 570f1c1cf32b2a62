/*
 * closed-loop-client --port P [--host 127.0.0.1] --connections N --duration-ms D
 *                    [--warmup-ms W] [--pipeline K]
 *
 * A minimal closed-loop load generator for `server-models bench`: N connections,
 * exactly K messages ("x" ETX) in flight on each, every ack answered with one more
 * message. One thread, one epoll set. Acks count only in the measuring window: D ms,
 * after W ms (default 1000) of warm-up. Prints one line of JSON and exits 0, or 1 if
 * a connection failed or closed early. Loopback only: a load tool must not be
 * pointed at another machine by accident.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PIPELINE 1024
#define MSG_LEN 2 /* "x" ETX */

struct flow {
    int fd;           /* -1 once closed */
    int ack_pos;      /* bytes of the current ack received so far: 0..2 */
    int odd;          /* 1: the last send stopped between "x" and its ETX */
    size_t unsent;    /* bytes of messages not written yet */
    long in_flight;   /* messages sent (or queued) and not acked yet */
    bool want_out;    /* waiting for EPOLLOUT */
};

static const char *prog = "closed-loop-client";
static int ep;
static long errors;
static char messages[MSG_LEN * MAX_PIPELINE + 1]; /* "x\3x\3...": what we send */

static _Noreturn void die(const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
    exit(1);
}

static _Noreturn void usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "%s: %s '%s' (usage: --port P [--host 127.0.0.1] --connections N "
                    "--duration-ms D [--warmup-ms W] [--pipeline K])\n", prog, what, arg);
    exit(2);
}

static long number(const char *flag, const char *text, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (*text < '0' || *text > '9' || *end != '\0' || errno != 0 || v < min || v > max) {
        fprintf(stderr, "%s: %s must be in %ld..%ld, not '%s'\n", prog, flag, min, max, text);
        exit(2);
    }
    return v;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
        die("clock_gettime");
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void flow_fail(struct flow *f, const char *why)
{
    if (errors++ == 0) /* one line is enough to say what went wrong */
        fprintf(stderr, "%s: a connection failed: %s\n", prog, why);
    if (close(f->fd) < 0 && errno == EBADF)
        die("close");
    f->fd = -1;
}

/* Writes the queued messages; what the socket does not take waits for EPOLLOUT. */
static void flow_send(struct flow *f)
{
    while (f->unsent > 0) {
        ssize_t n = send(f->fd, messages + f->odd, f->unsent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0) {
            flow_fail(f, strerror(errno));
            return;
        }
        f->unsent -= (size_t)n;
        f->odd = (f->odd + (int)n) % MSG_LEN;
    }
    bool want_out = f->unsent > 0;
    if (want_out != f->want_out) {
        struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = f};
        if (epoll_ctl(ep, EPOLL_CTL_MOD, f->fd, &ev) < 0)
            die("epoll_ctl");
        f->want_out = want_out;
    }
}

/* Reads acks and answers each with one new message. Returns the acks read. */
static long flow_receive(struct flow *f)
{
    static char buf[65536];
    ssize_t n = recv(f->fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    if (n <= 0) {
        flow_fail(f, n == 0 ? "the server closed the connection" : strerror(errno));
        return 0;
    }
    long acks = 0;
    for (ssize_t i = 0; i < n; i++) { /* count by bytes: every "ack" is one ack */
        if (buf[i] != "ack"[f->ack_pos]) {
            flow_fail(f, "the server sent a byte that is not part of \"ack\"");
            return acks;
        }
        if (++f->ack_pos == 3) {
            f->ack_pos = 0;
            if (--f->in_flight < 0) {
                flow_fail(f, "the server sent more acks than messages");
                return acks;
            }
            acks++;
        }
    }
    f->in_flight += acks; /* closed loop: one new message per ack */
    f->unsent += MSG_LEN * (size_t)acks;
    flow_send(f);
    return acks;
}

/* A blocking connect, bounded by a timeout, then non-blocking for the run. */
static int open_flow(const struct sockaddr *addr, socklen_t len)
{
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval timeout = {.tv_sec = 5}; /* applies to connect() on Linux */
    int one = 1, flags; /* TCP_NODELAY: Nagle would hold back our small messages */
    if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout) < 0 ||
        connect(fd, addr, len) < 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ||
        (flags = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        int saved = errno == EINPROGRESS ? ETIMEDOUT : errno; /* the 5 s ran out */
        if (close(fd) < 0 && errno == EBADF)
            die("close");
        errno = saved;
        return -1;
    }
    return fd;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    long port = -1, conns = -1, duration_ms = -1, warmup_ms = 1000, pipeline = 1;
    for (int i = 1; i < argc; i += 2) {
        const char *flag = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (value == NULL)
            usage_error("missing value for", flag);
        if (strcmp(flag, "--host") == 0)
            host = value;
        else if (strcmp(flag, "--port") == 0)
            port = number(flag, value, 1, 65535);
        else if (strcmp(flag, "--connections") == 0)
            conns = number(flag, value, 1, 1000000);
        else if (strcmp(flag, "--duration-ms") == 0)
            duration_ms = number(flag, value, 1, 600000);
        else if (strcmp(flag, "--warmup-ms") == 0)
            warmup_ms = number(flag, value, 0, 600000);
        else if (strcmp(flag, "--pipeline") == 0)
            pipeline = number(flag, value, 1, MAX_PIPELINE);
        else
            usage_error("unknown option", flag);
    }
    if (port < 0 || conns < 0 || duration_ms < 0)
        usage_error("missing option", port < 0 ? "--port" : conns < 0 ? "--connections"
                                                                      : "--duration-ms");

    /* Loopback only, and no name lookup: "localhost" means 127.0.0.1. */
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
    bool v6 = strcmp(host, "::1") == 0;
    if (v6) {
        a6.sin6_addr = in6addr_loopback;
    } else if (strcmp(host, "127.0.0.1") == 0 || strcmp(host, "localhost") == 0) {
        a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    } else {
        fprintf(stderr, "%s: refusing --host '%s': loopback only (127.0.0.1, ::1, localhost)\n",
                prog, host);
        exit(2);
    }
    const struct sockaddr *addr = v6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a4;
    socklen_t addr_len = v6 ? sizeof a6 : sizeof a4;

    struct rlimit rl; /* 10,000 connections need more than the usual 1024 fds */
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        die("getrlimit");
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
        fprintf(stderr, "%s: setrlimit: %s\n", prog, strerror(errno)); /* may open fewer */
    /* A server that resets must cost that connection, not the run (MSG_NOSIGNAL
     * covers send(); this covers the rest). */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die("signal(SIGPIPE)");
    for (size_t i = 0; i + 1 < sizeof messages; i += MSG_LEN)
        memcpy(messages + i, "x\3", MSG_LEN);
    if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
        die("epoll_create1");
    struct flow *flows = calloc((size_t)conns, sizeof *flows);
    if (flows == NULL)
        die("calloc");

    /* Open every connection before sending anything: a failed one ends the run. */
    long opened = 0;
    for (; opened < conns; opened++) {
        struct flow *f = &flows[opened];
        if ((f->fd = open_flow(addr, addr_len)) < 0) {
            fprintf(stderr, "%s: connection %ld of %ld: connect: %s\n", prog, opened + 1,
                    conns, strerror(errno));
            errors = conns - opened;
            break;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = f};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, f->fd, &ev) < 0)
            die("epoll_ctl");
    }
    int64_t started = 0, ended = 0; /* the measuring window as it really was */
    long long acks = 0;
    if (errors == 0) {
        for (long i = 0; i < conns; i++) {
            flows[i].in_flight = pipeline;
            flows[i].unsent = MSG_LEN * (size_t)pipeline;
            flow_send(&flows[i]);
        }
        /* The window opens at the first look at the clock after the warm-up, and
         * lasts D ms from then: a busy round cannot shorten it. */
        int64_t start = now_ns() + warmup_ms * 1000000, end = INT64_MAX;
        struct epoll_event events[256];
        for (;;) {
            int64_t now = now_ns();
            if (started == 0 && now >= start) {
                started = now;
                end = now + duration_ms * 1000000;
            }
            if (now >= end) {
                ended = now;
                break;
            }
            /* Sleep until traffic or the next phase: round up, never spin at 0 ms. */
            int64_t wake = started ? end : start;
            int n = epoll_wait(ep, events, 256, (int)((wake - now + 999999) / 1000000));
            if (n < 0 && errno != EINTR)
                die("epoll_wait");
            for (int i = 0; i < n; i++) {
                struct flow *f = events[i].data.ptr;
                if (f->fd >= 0 && (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
                    long got = flow_receive(f);
                    acks += started ? got : 0;
                }
                if (f->fd >= 0 && (events[i].events & EPOLLOUT))
                    flow_send(f);
            }
        }
    }
    for (long i = 0; i < opened; i++) /* unread acks make this a reset: fine here */
        if (flows[i].fd >= 0 && close(flows[i].fd) < 0 && errno == EBADF)
            die("close");
    free(flows);
    if (close(ep) < 0)
        die("close");

    double ms = (double)(ended - started) / 1e6;
    printf("{\"connections\":%ld,\"pipeline\":%ld,\"durationMs\":%.0f,\"acks\":%lld,"
           "\"msgsPerSec\":%.1f,\"errors\":%ld}\n",
           conns, pipeline, ms, acks, ms > 0 ? (double)acks * 1000 / ms : 0.0, errors);
    if (fflush(stdout) != 0)
        die("stdout");
    return errors > 0 ? 1 : 0;
}
