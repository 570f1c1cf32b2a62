/* protocol.c - sockets, ETX framing, time and shutdown helpers. */
#define _GNU_SOURCE
#include "protocol.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* The drain's state, set by install_stop_handlers() and request_stop(). An atomic, not a
 * volatile sig_atomic_t: a thread pool's main thread reads it while its signal thread sets it. */
atomic_int stop_requested = 0;
static int stop_pipe[2] = {-1, -1};
static volatile sig_atomic_t stop_listen_fd = -1; /* the listener request_stop() shuts down */

/* ---- sockets ----------------------------------------------------------------- */

/* The socket file this process bound (--unix), removed at its exit. */
static const char *bound_path;
static pid_t bound_by;

static void remove_socket_file(void)
{
    /* Forked children (workers, a child per connection) run atexit too: the file is the binder's. */
    if (bound_path && getpid() == bound_by && unlink(bound_path) < 0 && errno != ENOENT)
        warn("unlink(--unix path)");
}

static _Noreturn void cannot_listen_on_path(const char *path, const char *why)
{
    fprintf(stderr, "%s: cannot listen on unix:%s: %s\n", prog, path, why);
    exit(1);
}

static int open_unix_listener(const char *path, bool nonblocking)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        fprintf(stderr, "%s: invalid value for --unix: '%s' (longer than %zu bytes)\n", prog, path,
                sizeof sa.sun_path - 1);
        exit(2);
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    /* A file left by a server that was killed would make bind() fail: replace it, but only a socket. */
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            cannot_listen_on_path(path, "it exists and is not a socket (not replaced)");
        if (unlink(path) < 0 && errno != ENOENT)
            cannot_listen_on_path(path, strerror(errno));
    } else if (errno != ENOENT) {
        cannot_listen_on_path(path, strerror(errno));
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        die("socket(AF_UNIX)");
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        cannot_listen_on_path(path, strerror(errno));
    bound_path = path;
    bound_by = getpid();
    if (atexit(remove_socket_file) != 0)
        die("atexit");
    if (listen(fd, SOMAXCONN) < 0)
        cannot_listen_on_path(path, strerror(errno));
    return fd;
}

int open_listener(const struct options *o, bool nonblocking)
{
    if (o->unix_path)
        return open_unix_listener(o->unix_path, nonblocking);

    char port[16];
    snprintf(port, sizeof port, "%d", o->port);
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC,
        .ai_socktype = SOCK_STREAM,
        .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
    };
    struct addrinfo *res;
    int rc = getaddrinfo(o->host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "%s: invalid value for --host: '%s' (%s)\n", prog, o->host,
                gai_strerror(rc));
        exit(2);
    }

    int fd = -1, err = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
        if (fd < 0) {
            err = errno;
            continue;
        }
        /* A restarted server must not wait for old connections in TIME_WAIT. */
        int one = 1;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
            die("setsockopt(SO_REUSEADDR)");
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
            err = errno;
            xclose(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        errno = err;
        fprintf(stderr, "%s: cannot listen on %s port %s: %s\n", prog, o->host, port, strerror(err));
        exit(1);
    }
    return fd;
}

void print_ready_line(int listen_fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(listen_fd, (struct sockaddr *)&ss, &len) < 0)
        die("getsockname");
    if (ss.ss_family == AF_UNIX) {
        if (printf("listening on unix:%s\n", ((struct sockaddr_un *)&ss)->sun_path) < 0)
            die("printf");
        if (fflush(stdout) != 0)
            die("fflush(stdout)");
        return;
    }
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    bool is_v6 = ss.ss_family == AF_INET6;
    const void *addr = is_v6 ? (const void *)&v6->sin6_addr : (const void *)&v4->sin_addr;
    unsigned port = ntohs(is_v6 ? v6->sin6_port : v4->sin_port);
    char host[INET6_ADDRSTRLEN];
    if (!inet_ntop(ss.ss_family, addr, host, sizeof host))
        die("inet_ntop");
    /* IPv6 in brackets, as in a URL: the port's colon must not read as the address's. */
    if (printf(is_v6 ? "listening on [%s]:%u\n" : "listening on %s:%u\n", host, port) < 0)
        die("printf");
    if (fflush(stdout) != 0)
        die("fflush(stdout)");
}

void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        die("getrlimit");
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            warn("setrlimit(RLIMIT_NOFILE)");
    }
}

void close_gracefully(int fd)
{
    /* ENOTCONN: the peer already reset the connection; nothing to say goodbye to. */
    if (shutdown(fd, SHUT_WR) < 0 && errno != ENOTCONN)
        warn("shutdown");
    /* Bounded: a client that keeps sending gets the RST it asked for. */
    unsigned char sink[READ_CHUNK];
    for (int i = 0; i < 16; i++) {
        ssize_t n = recv(fd, sink, sizeof sink, MSG_DONTWAIT);
        if (n <= 0)
            break;
    }
    xclose(fd);
}

int accept_client(int listen_fd, int flags)
{
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, flags | SOCK_CLOEXEC);
        if (fd >= 0)
            return fd;
        switch (errno) {
        /* The caller decides: signal, nothing pending, listener shut down, out of fds. */
        case EINTR: case EAGAIN: case EINVAL:
        case EMFILE: case ENFILE: case ENOBUFS: case ENOMEM:
            return -1;
        /* One connection died before we took it (see accept(2)): take the next. */
        case ECONNABORTED: case EPROTO: case EPERM: case ENETDOWN: case ENOPROTOOPT:
        case EHOSTDOWN: case ENONET: case EHOSTUNREACH: case EOPNOTSUPP: case ENETUNREACH:
            continue;
        default:
            die("accept4");
        }
    }
}

bool accept_error_is_resource(int err)
{
    return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

void accept_backoff(int stop_fd)
{
    /* Out of descriptors: the pending connection stays readable, so retrying at
     * once would spin. Wait a bounded 100 ms (or for shutdown) and try again. */
    struct pollfd p = {stop_fd, POLLIN, 0};
    if (poll(&p, stop_fd >= 0 ? 1 : 0, 100) < 0 && errno != EINTR)
        die("poll");
}

int accept_next_client(int listen_fd, int stop_fd)
{
    while (!stop_requested) {
        int fd = accept_client(listen_fd, 0);
        if (fd >= 0)
            return fd;
        if (errno == EINVAL) {
            /* The listener was shut down: ours only by request_stop(), which sets
             * stop_requested first; a prefork worker's by the parent, to drain it. */
            if (listen_fd == stop_listen_fd && !stop_requested)
                die("accept4");
            return -1;
        }
        if (accept_error_is_resource(errno))
            accept_backoff(stop_fd);
        /* EINTR: a signal (SIGCHLD, or a drain: the loop condition decides). */
    }
    return -1;
}

/* ---- framing ----------------------------------------------------------------- */

static const char GOODBYE[] = "goodbye";
#define GOODBYE_LEN (sizeof GOODBYE - 1)

void framer_init(struct framer *f)
{
    f->len = 0;
    f->maybe_goodbye = true;
}

enum frame_event framer_feed(struct framer *f, const unsigned char *buf, size_t n,
                             size_t max, size_t *used)
{
    const unsigned char *etx = memchr(buf, ETX, n);
    size_t body = etx ? (size_t)(etx - buf) : n; /* bytes of this message in buf */

    /* Only the first 8 bytes can decide "goodbye": the loop stops early. */
    for (size_t i = 0; i < body && f->maybe_goodbye; i++) {
        size_t pos = f->len + i;
        f->maybe_goodbye = pos < GOODBYE_LEN && buf[i] == (unsigned char)GOODBYE[pos];
    }
    if (body > max - f->len) {
        *used = n;
        return FRAME_TOO_LONG;
    }
    f->len += body;
    if (!etx) {
        *used = n;
        return FRAME_NEED_MORE;
    }
    *used = body + 1;
    bool bye = f->maybe_goodbye && f->len == GOODBYE_LEN;
    framer_init(f);
    return bye ? FRAME_GOODBYE : FRAME_MESSAGE;
}

/* ---- time ----------------------------------------------------------------------- */

int64_t now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
        die("clock_gettime");
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- shutdown --------------------------------------------------------------------- */

void request_stop(void)
{
    int saved = errno; /* a handler must not change errno under the code it interrupts */
    stop_requested = 1;
    if (stop_pipe[1] >= 0) {
        /* Non-blocking: the only possible failure, EAGAIN, means the pipe is full,
         * i.e. readable already. */
        ssize_t n = write(stop_pipe[1], "x", 1);
        (void)n;
    }
    if (stop_listen_fd >= 0) {
        /* Wakes accept() at once, even one entered after this line. The only
         * failure, ENOTCONN, means an earlier call already did it. */
        int rc = shutdown(stop_listen_fd, SHUT_RDWR);
        (void)rc;
    }
    errno = saved;
}

static void on_stop_signal(int sig)
{
    (void)sig;
    request_stop();
}

int install_stop_handlers(int listen_fd)
{
    /* A client that resets while we write must cost us that session, not the process. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        die("signal(SIGPIPE)");

    for (int i = 0; i < 2; i++)
        if (stop_pipe[i] >= 0)
            xclose(stop_pipe[i]);
    if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        die("pipe2");
    stop_listen_fd = listen_fd;
    stop_requested = 0;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigfillset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: blocking calls return EINTR and re-check the flag */
    if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
        die("sigaction");
    return stop_pipe[0];
}

void block_signals(bool block)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    int rc = pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
    if (rc != 0) {
        errno = rc;
        die("pthread_sigmask");
    }
}
