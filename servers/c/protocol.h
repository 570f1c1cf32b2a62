/*
 * protocol.h - what every C reference server shares.
 *
 * Protocol v1: the client sends messages ended by ETX (0x03); the server answers
 * each one with the three bytes "ack" after a work delay, in order. The message
 * "goodbye" gets no ack: the server closes gracefully (FIN) at once.
 *
 * The models differ only in *how* they run sessions at the same time; this module
 * holds everything else: options, the listening socket, ETX framing, the accept
 * loop and the session routine of the blocking models, the ready line and shutdown
 * helpers.
 * Implemented in options.c (command line, errors), session.c (the blocking
 * session) and protocol.c (the rest).
 */
#ifndef SERVER_MODELS_PROTOCOL_H
#define SERVER_MODELS_PROTOCOL_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETX 0x03
#define ACK "ack"
#define ACK_LEN 3
#define READ_CHUNK 4096 /* bytes read from a client at a time */

/* ---- options (identical to the TypeScript servers) ---------------------- */

struct options {
    const char *host;         /* --host, default 127.0.0.1 */
    int port;                 /* --port, default 3000; 0 = any free port */
    const char *unix_path;    /* --unix: a Unix-domain stream socket instead of TCP; NULL = TCP */
    long delay_ms;            /* --delay-ms, default 2000: work time per message */
    int workers;              /* --workers: pool size (pool models only) */
    size_t max_message_bytes; /* --max-message-bytes, default 65536 */
    long grace_ms;            /* --grace-ms, default 4 delays (at least 5000): SIGTERM drain time */
};

/* Parses argv; prints usage and exits 0 on --help, one line on stderr and exit 2
 * on a bad flag or value. default_workers is the model's pool size (0 = none). */
void parse_options(int argc, char **argv, struct options *o, int default_workers);

/* ---- errors -------------------------------------------------------------- */

extern const char *prog; /* the program name, for messages; set by parse_options() */

/* Prints "prog: what: strerror(errno)" and exits 1. For setup calls that must work. */
_Noreturn void die(const char *what);
/* Prints the same line and carries on: for errors that only cost one client. */
void warn(const char *what);
/* close() that dies on EBADF: closing a descriptor we do not own is a bug. */
void xclose(int fd);

/* ---- sockets -------------------------------------------------------------- */

/* socket + SO_REUSEADDR + bind + listen(SOMAXCONN), CLOEXEC. Exits 2 if --host
 * does not resolve, 1 if the address cannot be bound (e.g. in use).
 * With --unix: a stale socket file at the path is replaced (anything else there
 * is not: exit 1), and the file is removed when the process that bound it exits
 * (atexit; forked children that exit leave it alone). */
int open_listener(const struct options *o, bool nonblocking);
/* Prints the one ready line, "listening on 127.0.0.1:41234", "[::1]:41234" or
 * "unix:/run/x.sock". */
void print_ready_line(int listen_fd);
/* Raises the soft RLIMIT_NOFILE to the hard limit: 1000 sessions need > 1024 fds. */
void raise_fd_limit(void);
/* FIN, not RST: shutdown(SHUT_WR), discard bytes that already arrived (unread bytes
 * make close() send RST), close. */
void close_gracefully(int fd);
/* accept4(CLOEXEC | flags) that skips errors belonging to one aborted connection.
 * Returns -1 with errno EINTR, EAGAIN, EINVAL (listener shut down by a drain) or a
 * resource error (EMFILE...); dies on anything else, which would be a bug. */
int accept_client(int listen_fd, int flags);
/* Out of descriptors or memory? Then retrying at once would spin. */
bool accept_error_is_resource(int err);
/* Sleeps a bounded 100 ms, or less if stop_fd (may be -1) becomes readable. */
void accept_backoff(int stop_fd);
/* The accept loop of the blocking models: waits on a blocking listener for the next
 * client and returns its socket, or -1 once the server drains (stop_requested, or
 * the listener shut down). Retries after a signal or an aborted connection; backs
 * off on a resource error. */
int accept_next_client(int listen_fd, int stop_fd);

/* ---- framing --------------------------------------------------------------- */

/* The framer never stores a message: to answer it we only need its length (for
 * the size limit) and whether it is exactly "goodbye". Memory stays bounded by
 * construction, whatever --max-message-bytes is. */
struct framer {
    size_t len;          /* bytes of the current message seen so far */
    bool maybe_goodbye;  /* the bytes so far are a prefix of "goodbye" */
};

enum frame_event {
    FRAME_NEED_MORE, /* all input consumed, no message ended */
    FRAME_MESSAGE,   /* an ordinary message ended: ack it */
    FRAME_GOODBYE,   /* "goodbye" ended: close, no ack */
    FRAME_TOO_LONG,  /* more than max bytes without ETX: close */
};

void framer_init(struct framer *f);
/* Consumes buf up to and including the first ETX; *used tells how far it got. */
enum frame_event framer_feed(struct framer *f, const unsigned char *buf, size_t n,
                             size_t max, size_t *used);

/* ---- time ------------------------------------------------------------------ */

int64_t now_ms(void); /* CLOCK_MONOTONIC in milliseconds */

/* ---- the blocking session ---------------------------------------------------- */

/* Serves one client to the end (goodbye, EOF, reset or too-long message) and
 * closes fd. Blocking models call it; it waits in poll(), never spins.
 * stop_fd becomes readable when the server starts draining: from then on the
 * session acks what has already arrived, then closes, within --grace-ms. */
void serve_session(int fd, const struct options *o, int stop_fd);

/* ---- shutdown ---------------------------------------------------------------- */

/* SIGTERM/SIGINT start a drain. The handler sets stop_requested, writes to a
 * self-pipe (so poll() wakes without a race) and, if listen_fd >= 0, shuts the
 * listening socket down, which wakes a thread blocked in accept() (Linux) even if
 * the signal landed just before the call. Returns the pipe's read end.
 * Calling it again (in a forked child) replaces the pipe and the listener.
 * Also ignores SIGPIPE: a client that resets must cost its session, not the process. */
extern atomic_int stop_requested; /* lock-free, so a handler may set it */
int install_stop_handlers(int listen_fd);
/* What the handler does; also callable from a normal thread (async-signal-safe). */
void request_stop(void);
/* Blocks or unblocks SIGTERM, SIGINT and SIGCHLD in the calling thread. */
void block_signals(bool block);

#endif
