/* session.c - one client, served to the end by a blocking model. */
#define _GNU_SOURCE
#include "protocol.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

struct session {
    int fd, stop_fd;
    const struct options *o;
    bool stopping;    /* the server is draining */
    int64_t deadline; /* when draining: close whatever is left at this time */
};

enum wait_result { WAIT_READY, WAIT_TIMEOUT, WAIT_STOPPED, WAIT_DEADLINE };

/* Waits in poll() for `events` on the client (or only for time `until` if events is
 * 0; until < 0 means no limit), watching the stop pipe. Returns WAIT_STOPPED once,
 * when the drain begins; after that never waits past the grace deadline. */
static enum wait_result wait_for(struct session *s, short events, int64_t until)
{
    for (;;) {
        int64_t now = now_ms();
        if (s->stopping && now >= s->deadline)
            return WAIT_DEADLINE;
        if (until >= 0 && now >= until)
            return WAIT_TIMEOUT;
        int64_t limit = until;
        if (s->stopping && (limit < 0 || s->deadline < limit))
            limit = s->deadline;
        int timeout = limit < 0 ? -1 : (int)(limit - now);

        struct pollfd p[2] = {
            {events ? s->fd : -1, events, 0},        /* negative fds are ignored */
            {s->stopping ? -1 : s->stop_fd, POLLIN, 0}, /* stays readable once set */
        };
        if (poll(p, 2, timeout) < 0) {
            if (errno == EINTR)
                continue;
            die("poll");
        }
        if (p[0].revents)
            return WAIT_READY; /* errors and hangups too: the next call reports them */
        if (p[1].revents) {
            s->stopping = true;
            s->deadline = now_ms() + s->o->grace_ms;
            return WAIT_STOPPED;
        }
    }
}

enum session_end { END_GRACEFUL, END_ABORT };

/* The per-message work: sleep the delay (a drain does not cut it short, only the
 * grace deadline does), then write the 3 bytes. */
static bool work_then_ack(struct session *s, enum session_end *end)
{
    int64_t until = now_ms() + s->o->delay_ms;
    for (;;) {
        enum wait_result r = wait_for(s, 0, until);
        if (r == WAIT_TIMEOUT)
            break;
        if (r == WAIT_DEADLINE) {
            *end = END_GRACEFUL;
            return false;
        }
    }
    size_t sent = 0;
    while (sent < ACK_LEN) {
        /* MSG_NOSIGNAL: a reset client gives EPIPE here, not a process-killing SIGPIPE. */
        ssize_t n = send(s->fd, ACK + sent, ACK_LEN - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) {
            sent += (size_t)n;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            /* The client is not reading its acks: wait for room, never spin. */
            if (wait_for(s, POLLOUT, -1) == WAIT_DEADLINE) {
                *end = END_GRACEFUL;
                return false;
            }
        } else if (errno != EINTR) {
            *end = END_ABORT; /* EPIPE, ECONNRESET: the client is gone */
            return false;
        }
    }
    return true;
}

static enum session_end run_session(struct session *s)
{
    struct framer f;
    framer_init(&f);
    unsigned char buf[READ_CHUNK];
    enum session_end end;

    for (;;) {
        if (!s->stopping) {
            enum wait_result r = wait_for(s, POLLIN, -1);
            if (r == WAIT_DEADLINE)
                return END_GRACEFUL;
        }
        ssize_t n = recv(s->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (s->stopping)
                    return END_GRACEFUL; /* draining and nothing more has arrived */
                continue;
            }
            return END_ABORT; /* ECONNRESET and friends: drop this session only */
        }
        if (n == 0)
            return END_GRACEFUL; /* EOF: every complete message was acked already */

        /* Several messages may sit in one read; each is worked in turn. */
        for (size_t off = 0; off < (size_t)n;) {
            size_t used;
            switch (framer_feed(&f, buf + off, (size_t)n - off, s->o->max_message_bytes, &used)) {
            case FRAME_NEED_MORE:
                break;
            case FRAME_MESSAGE:
                if (!work_then_ack(s, &end))
                    return end;
                break;
            case FRAME_GOODBYE:
            case FRAME_TOO_LONG:
                return END_GRACEFUL;
            }
            off += used;
        }
    }
}

void serve_session(int fd, const struct options *o, int stop_fd)
{
    /* If the drain has begun already, the first wait_for() notices it. */
    struct session s = {.fd = fd, .stop_fd = stop_fd, .o = o};
    if (run_session(&s) == END_GRACEFUL)
        close_gracefully(fd);
    else
        xclose(fd);
}
