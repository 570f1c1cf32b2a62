/*
 * minimal-epoll-server --port P [--host 127.0.0.1]     (--port 0: any free port)
 *
 * The smallest honest epoll ack server: the yardstick `server-models bench`
 * measures the reference event-loop server against, so it is written apart from
 * the reference code and shares none of it. One thread, level-triggered epoll,
 * non-blocking sockets. It acks every message at once (no work delay: --delay-ms
 * is accepted and ignored); "goodbye" gets a graceful close (FIN, no ack).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define ETX 0x03
#define GOODBYE "goodbye"
#define GOODBYE_LEN 7

struct conn {
    int fd;
    size_t msg_len;           /* bytes of the current message seen so far */
    char head[GOODBYE_LEN];   /* its first bytes: all we need to spot "goodbye" */
    char *out;                /* acks the socket did not take yet (NULL: none) */
    size_t out_len;
    bool closing;             /* "goodbye" seen: close once out is written */
};

static int ep, listen_fd, sig_fd;
static bool intake_paused; /* see pause_intake() */
static struct conn **conns; /* indexed by descriptor; sized by RLIMIT_NOFILE */
static rlim_t max_fds;
static char in_buf[65536];                /* one read at a time: one buffer will do */
static char ack_buf[3 * sizeof in_buf];   /* the acks for one read: 3 bytes per ETX */

static _Noreturn void die(const char *what)
{
    fprintf(stderr, "minimal-epoll-server: %s: %s\n", what, strerror(errno));
    exit(1);
}

static _Noreturn void usage_error(const char *arg)
{
    fprintf(stderr, "minimal-epoll-server: bad argument '%s' (usage: --port 0..65535 "
                    "[--host ADDR] [--delay-ms IGNORED])\n", arg);
    exit(2);
}

static void ctl(int op, int fd, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.fd = fd};
    if (epoll_ctl(ep, op, fd, &ev) < 0)
        die("epoll_ctl");
}

/* Out of descriptors (or memory), the client stays queued and a watched listener
 * would make the loop spin: stop watching it until a connection closes, or the
 * loop has been idle for 100 ms (ENFILE: another process may free one). */
static void pause_intake(bool pause)
{
    if (pause != intake_paused)
        ctl(pause ? EPOLL_CTL_DEL : EPOLL_CTL_ADD, listen_fd, EPOLLIN);
    intake_paused = pause;
}

static void conn_close(struct conn *c, bool graceful)
{
    /* shutdown() sends our FIN even if the client has not closed its side. ENOTCONN:
     * the client reset the connection first. close() also leaves the epoll set. */
    if (graceful && shutdown(c->fd, SHUT_WR) < 0 && errno != ENOTCONN)
        die("shutdown");
    if (close(c->fd) < 0 && errno == EBADF) /* Linux frees fd even on EINTR/EIO */
        die("close");
    conns[c->fd] = NULL;
    free(c->out);
    free(c);
    pause_intake(false); /* a descriptor is free again */
}

/* Sends data: the acks of one read, or the unsent rest of them, c->out. What
 * the socket does not take waits in c->out for EPOLLOUT, and meanwhile we read
 * nothing more: a client that never reads costs us at most the acks of one read. */
static void flush(struct conn *c, const char *data, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = send(c->fd, data + done, len - done, MSG_NOSIGNAL);
        if (n >= 0) {
            done += (size_t)n;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            break;
        } else if (errno != EINTR) {
            conn_close(c, false); /* EPIPE, ECONNRESET: the client is gone */
            return;
        }
    }
    if (c->out) { /* data was c->out */
        c->out_len -= done;
        memmove(c->out, c->out + done, c->out_len);
        if (c->out_len > 0)
            return; /* still full: wait for the next EPOLLOUT */
        free(c->out);
        c->out = NULL;
        if (!c->closing)
            ctl(EPOLL_CTL_MOD, c->fd, EPOLLIN); /* all written: read again */
    } else if (done < len) {
        c->out_len = len - done;
        if ((c->out = malloc(c->out_len)) == NULL)
            die("malloc");
        memcpy(c->out, data + done, c->out_len);
        ctl(EPOLL_CTL_MOD, c->fd, EPOLLOUT);
        return;
    }
    if (c->closing)
        conn_close(c, true); /* "goodbye": every earlier ack is written */
}

static void on_readable(struct conn *c)
{
    ssize_t n = recv(c->fd, in_buf, sizeof in_buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return; /* level-triggered: epoll reports it again if data is there */
    if (n <= 0) {
        conn_close(c, n == 0); /* EOF: every ack is written (we read only then) */
        return;
    }
    /* Scan for ETX. A message may arrive over several reads: c keeps its length
     * and first bytes, all we need to spot "goodbye". */
    size_t acks = 0;
    for (ssize_t i = 0; i < n && !c->closing; i++) {
        if (in_buf[i] != ETX) {
            if (c->msg_len < GOODBYE_LEN)
                c->head[c->msg_len] = in_buf[i];
            c->msg_len++;
        } else if (c->msg_len == GOODBYE_LEN && memcmp(c->head, GOODBYE, GOODBYE_LEN) == 0) {
            c->closing = true; /* no ack; what follows it is ignored */
        } else {
            memcpy(ack_buf + 3 * acks++, "ack", 3);
            c->msg_len = 0;
        }
    }
    flush(c, ack_buf, 3 * acks);
}

static void accept_clients(void)
{
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                pause_intake(true);
            else if (errno != EAGAIN && errno != EWOULDBLOCK)
                continue; /* ECONNABORTED, EINTR...: that client is gone, take the next */
            return;
        }
        struct conn *c = calloc(1, sizeof *c);
        if (c == NULL)
            die("calloc");
        c->fd = fd;
        conns[fd] = c; /* fd < max_fds: the kernel hands out no larger descriptor */
        ctl(EPOLL_CTL_ADD, fd, EPOLLIN);
    }
}

static int open_listener(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "minimal-epoll-server: bad --host '%s': %s\n", host, gai_strerror(rc));
        exit(2);
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket");
    int one = 1; /* a restarted server must not wait for TIME_WAIT connections */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
        die("setsockopt(SO_REUSEADDR)");
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0)
        die("bind");
    if (listen(fd, 4096) < 0) /* the kernel caps it at net.core.somaxconn */
        die("listen");
    freeaddrinfo(res);
    return fd;
}

static void print_ready_line(void)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char host[NI_MAXHOST], port[NI_MAXSERV];
    if (getsockname(listen_fd, (struct sockaddr *)&ss, &len) < 0)
        die("getsockname");
    int rc = getnameinfo((struct sockaddr *)&ss, len, host, sizeof host, port, sizeof port,
                         NI_NUMERICHOST | NI_NUMERICSERV);
    if (rc != 0) {
        fprintf(stderr, "minimal-epoll-server: getnameinfo: %s\n", gai_strerror(rc));
        exit(1);
    }
    const char *format = strchr(host, ':') ? "listening on [%s]:%s\n" : "listening on %s:%s\n";
    if (printf(format, host, port) < 0 || fflush(stdout) != 0)
        die("stdout");
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *port = NULL;
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc)
            usage_error(argv[i]); /* a flag without its value */
        if (strcmp(argv[i], "--port") == 0)
            port = argv[i + 1];
        else if (strcmp(argv[i], "--host") == 0)
            host = argv[i + 1];
        else if (strcmp(argv[i], "--delay-ms") != 0) /* accepted: this server has no delay */
            usage_error(argv[i]);
    }
    char *end = NULL;
    long p = port ? strtol(port, &end, 10) : -1;
    if (port == NULL || *port < '0' || *port > '9' || *end != '\0' || p > 65535)
        usage_error(port ? port : "(no --port)");

    struct rlimit rl; /* 10,000 connections need more than the usual 1024 fds */
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        die("getrlimit");
    rl.rlim_cur = rl.rlim_max; /* if that is refused (unlimited?), serve fewer */
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0 && getrlimit(RLIMIT_NOFILE, &rl) < 0)
        die("getrlimit");
    max_fds = rl.rlim_cur;
    if ((conns = calloc(max_fds, sizeof *conns)) == NULL)
        die("calloc");

    /* A client that resets must cost its connection, not the process (MSG_NOSIGNAL
     * covers send(), this the rest). SIGTERM and SIGINT come through a signalfd, so
     * epoll_wait() is the only place we wait. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die("signal(SIGPIPE)");
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    if (sigprocmask(SIG_BLOCK, &stop, NULL) < 0)
        die("sigprocmask");
    if ((sig_fd = signalfd(-1, &stop, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
        die("signalfd");
    if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
        die("epoll_create1");
    listen_fd = open_listener(host, port);
    ctl(EPOLL_CTL_ADD, listen_fd, EPOLLIN);
    ctl(EPOLL_CTL_ADD, sig_fd, EPOLLIN);
    print_ready_line();

    struct epoll_event events[256];
    for (bool running = true; running;) {
        int n = epoll_wait(ep, events, 256, intake_paused ? 100 : -1);
        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            struct conn *c = conns[fd];
            if (fd == sig_fd)
                running = false;
            else if (fd == listen_fd)
                accept_clients();
            else if (events[i].events & EPOLLERR)
                conn_close(c, false); /* reset: nothing to say goodbye to */
            else if (c->out)
                flush(c, c->out, c->out_len);
            else
                on_readable(c); /* also EOF (EPOLLHUP): recv() returns 0 */
        }
        if (n == 0)
            pause_intake(false); /* 100 ms passed: try accepting again */
    }
    for (rlim_t fd = 0; fd < max_fds; fd++)
        if (conns[fd])
            conn_close(conns[fd], true);
    free(conns);
    if (close(listen_fd) < 0 || close(sig_fd) < 0 || close(ep) < 0)
        die("close");
    return 0;
}
