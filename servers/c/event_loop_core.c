/*
 * event_loop_core.c - the epoll loop.
 *
 * Every socket is non-blocking and the loop never sleeps anywhere but in
 * epoll_wait(). Each connection is a small state machine, advanced whenever
 * something it waits for happens:
 *   reading  -> a message ends -> working (a timer, not a sleep) -> ack owed
 *   ack owed -> written        -> back to the next buffered message, or reading
 * With a work delay of 0 the work of a message is done the moment it is framed,
 * so every complete message already received is owed its ack at once: we read
 * until the socket is empty (or a bound), count the acks owed, and write them
 * all with one send(). A client that pipelines k messages costs one read and
 * one write per round, not k of each.
 * Bounded per connection: one READ_CHUNK of input and two counters; the acks are
 * written from one static buffer of repeated "ack". We read from a client only
 * while none of its acks waits for the socket to take it (acks gathered but not
 * yet written are only a count), so a client that floods and never reads its
 * acks stalls only itself (EPOLLOUT backpressure) and costs no memory beyond that.
 */
#define _GNU_SOURCE
#include "event_loop_core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* At most this many acks go out in one send(): it sizes the static buffer they
 * are written from, so a write stays bounded however much a client pipelines. */
#define ACK_BATCH 1024
/* At most this many reads per connection per round of the loop (16 KiB, so at
 * most that many messages): a client that floods at --delay-ms 0 gets its share
 * and the others theirs; level-triggered epoll reports its rest next round. */
#define READS_PER_ROUND 4

/* ACK_BATCH acks back to back; a batch of k acks is its last k * ACK_LEN bytes. */
static char acks[ACK_BATCH * ACK_LEN];

struct conn {
    int fd;
    uint32_t events;            /* what epoll watches for it now */
    struct conn *prev, *next;   /* every connection: a drain visits them all */
    struct conn *tprev, *tnext; /* the timer queue, while working */
    int64_t due;                /* while working: when the work is done */
    bool working;
    bool eof;                   /* the client sent FIN */
    bool closing;               /* goodbye or a message too long: close once acked */
    size_t owed;                /* delay 0: acks gathered, not yet being written */
    size_t out_left;            /* bytes of the acks being written still to send */
    struct framer framer;
    size_t in_off, in_len;      /* unhandled input is in[in_off .. in_len) */
    unsigned char in[READ_CHUNK];
};

struct loop {
    const struct options *o;
    int ep, listen_fd, fd_source, stop_fd;
    bool stopping;
    int64_t deadline;      /* while stopping: close what is left at this time */
    int64_t intake_resume; /* > 0: taking new clients paused (out of fds) until then */
    int spare_fd;          /* fd_source only: see receive_clients() */
    struct conn *conns;
    size_t nconns;
    /* All work takes the same delay, so deadlines come in start order: a FIFO is
     * a correct priority queue here, with O(1) insert and remove. */
    struct conn *timer_head, *timer_tail;
};

/* epoll_event.data.ptr tags for the descriptors that are not connections. */
static char TAG_LISTEN, TAG_SOURCE, TAG_STOP;

static void ctl(struct loop *l, int op, int fd, uint32_t events, void *ptr)
{
    struct epoll_event ev = {.events = events, .data.ptr = ptr};
    if (epoll_ctl(l->ep, op, fd, &ev) < 0)
        die("epoll_ctl");
}

/* Level-triggered interest; 0 still reports EPOLLERR/EPOLLHUP, i.e. a reset. */
static void watch(struct loop *l, struct conn *c, uint32_t events)
{
    if (c->events != events) {
        ctl(l, EPOLL_CTL_MOD, c->fd, events, c);
        c->events = events;
    }
}

static void conn_open(struct loop *l, int fd)
{
    struct conn *c = malloc(sizeof *c);
    if (c == NULL) {
        warn("malloc");
        close_gracefully(fd); /* turn this client away, keep serving the others */
        return;
    }
    memset(c, 0, offsetof(struct conn, in)); /* the input buffer needs no zeroing */
    c->fd = fd;
    framer_init(&c->framer);
    c->events = EPOLLIN;
    ctl(l, EPOLL_CTL_ADD, fd, EPOLLIN, c);
    c->next = l->conns;
    if (l->conns)
        l->conns->prev = c;
    l->conns = c;
    l->nconns++;
}

static void timer_remove(struct loop *l, struct conn *c)
{
    if (c->tprev)
        c->tprev->tnext = c->tnext;
    else
        l->timer_head = c->tnext;
    if (c->tnext)
        c->tnext->tprev = c->tprev;
    else
        l->timer_tail = c->tprev;
    c->tprev = c->tnext = NULL;
    c->working = false;
}

static void conn_close(struct loop *l, struct conn *c, bool graceful)
{
    if (c->working)
        timer_remove(l, c);
    if (c->prev)
        c->prev->next = c->next;
    else
        l->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    l->nconns--;
    ctl(l, EPOLL_CTL_DEL, c->fd, 0, NULL);
    if (graceful)
        close_gracefully(c->fd); /* FIN */
    else
        xclose(c->fd); /* the client reset: nothing to say */
    free(c);
}

static void start_work(struct loop *l, struct conn *c)
{
    c->working = true;
    c->due = now_ms() + l->o->delay_ms;
    c->tprev = l->timer_tail;
    c->tnext = NULL;
    if (l->timer_tail)
        l->timer_tail->tnext = c;
    else
        l->timer_head = c;
    l->timer_tail = c;
}

/* The acks gathered so far become the batch being written. */
static void write_owed(struct conn *c)
{
    c->out_left = c->owed * ACK_LEN;
    c->owed = 0;
}

/* Moves c along its state machine as far as it can go without blocking; then
 * tells epoll what it waits for. May close and free c. */
static void advance(struct loop *l, struct conn *c)
{
    int reads_left = READS_PER_ROUND;
    bool drained = c->eof; /* nothing more to read now: EAGAIN, a short read, FIN */
    for (;;) {
        if (c->working) {
            watch(l, c, 0); /* nothing to do until the timer fires */
            return;
        }
        if (c->out_left > 0) {
            ssize_t n = send(c->fd, acks + sizeof acks - c->out_left, c->out_left,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n >= 0) {
                c->out_left -= (size_t)n;
            } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
                watch(l, c, EPOLLOUT); /* backpressure: read nothing until it drains */
                return;
            } else if (errno != EINTR) {
                conn_close(l, c, false); /* EPIPE, ECONNRESET */
                return;
            }
            continue;
        }
        if (c->in_off < c->in_len && !c->closing) {
            size_t used;
            enum frame_event ev = framer_feed(&c->framer, c->in + c->in_off,
                                              c->in_len - c->in_off,
                                              l->o->max_message_bytes, &used);
            c->in_off += used;
            if (ev == FRAME_MESSAGE) {
                if (l->o->delay_ms > 0)
                    start_work(l, c); /* one message at a time, acked D later */
                else if (++c->owed == ACK_BATCH)
                    write_owed(c); /* the batch is full: write it, then frame on */
            } else if (ev == FRAME_GOODBYE || ev == FRAME_TOO_LONG) {
                c->closing = true; /* what follows is never read */
            }
            continue;
        }
        /* Everything read so far is framed. Gather more acks while the socket
         * has input and this round allows; then write them. */
        bool more = !drained && reads_left > 0;
        if (c->owed > 0 && (c->closing || !more)) {
            write_owed(c);
            continue;
        }
        if (c->closing || c->eof) {
            conn_close(l, c, true); /* every earlier ack is written already */
            return;
        }
        if (!more) {
            if (l->stopping && drained) {
                conn_close(l, c, true); /* draining, and nothing more has arrived */
                return;
            }
            watch(l, c, EPOLLIN);
            return;
        }
        ssize_t n = recv(c->fd, c->in, sizeof c->in, MSG_DONTWAIT);
        if (n > 0) {
            c->in_off = 0;
            c->in_len = (size_t)n;
            reads_left--;
            /* A short read took all the kernel had: a further recv() would find
             * nothing, and what arrives later wakes epoll_wait() (level-triggered). */
            drained = (size_t)n < sizeof c->in;
        } else if (n == 0) {
            c->eof = true;
            drained = true;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            drained = true;
        } else if (errno != EINTR) {
            conn_close(l, c, false);
            return;
        }
    }
}

/* Out of descriptors: the listener (or fd source) stays readable, so watching it
 * would spin. Stop watching it for a bounded 100 ms instead. */
static void pause_intake(struct loop *l)
{
    ctl(l, EPOLL_CTL_DEL, l->listen_fd >= 0 ? l->listen_fd : l->fd_source, 0, NULL);
    l->intake_resume = now_ms() + 100;
}

/* fd_source only: makes sure a descriptor slot is free for the next one received. */
static bool take_spare(struct loop *l)
{
    if (l->spare_fd < 0) {
        l->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (l->spare_fd < 0 && !accept_error_is_resource(errno))
            die("open(/dev/null)");
    }
    return l->spare_fd >= 0;
}

static void resume_intake(struct loop *l)
{
    l->intake_resume = 0;
    if (l->listen_fd >= 0) {
        ctl(l, EPOLL_CTL_ADD, l->listen_fd, EPOLLIN, &TAG_LISTEN);
    } else if (take_spare(l)) {
        ctl(l, EPOLL_CTL_ADD, l->fd_source, EPOLLIN, &TAG_SOURCE);
    } else {
        l->intake_resume = now_ms() + 100; /* still full: try again later */
    }
}

static void accept_clients(struct loop *l)
{
    /* A bounded batch, so a connection storm cannot starve the sessions;
     * level-triggered epoll reports the rest on the next round. */
    for (int i = 0; i < 64; i++) {
        int fd = accept_client(l->listen_fd, SOCK_NONBLOCK);
        if (fd >= 0) {
            conn_open(l, fd);
        } else if (accept_error_is_resource(errno)) {
            pause_intake(l); /* the client waits in the backlog meanwhile */
            return;
        } else if (errno != EINTR) {
            return; /* EAGAIN: the accept queue is empty */
        }
    }
}

static void set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        die("fcntl(O_NONBLOCK)");
}

/* Takes the connections the master passed; false when the master is gone.
 * A descriptor received while we are out of them is closed by the kernel
 * (MSG_CTRUNC) and that client is lost. So we hold a spare descriptor and free
 * it just before each recvmsg(); if we cannot take it back, we are full: pause,
 * and the master's sends to us block (EAGAIN), so it tries another worker. */
static bool receive_clients(struct loop *l)
{
    for (int i = 0; i < 64; i++) { /* a bounded batch, as for accept */
        if (!take_spare(l)) {
            pause_intake(l);
            return true;
        }
        xclose(l->spare_fd);
        l->spare_fd = -1;
        char byte;
        struct iovec iov = {.iov_base = &byte, .iov_len = 1};
        union {
            struct cmsghdr align;
            char buf[CMSG_SPACE(sizeof(int))];
        } control;
        struct msghdr msg = {
            .msg_iov = &iov,
            .msg_iovlen = 1,
            .msg_control = control.buf,
            .msg_controllen = sizeof control.buf,
        };
        ssize_t n = recvmsg(l->fd_source, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return true;
            warn("recvmsg");
            return false;
        }
        if (n == 0)
            return false; /* EOF: the master closed its end */
        struct cmsghdr *h = CMSG_FIRSTHDR(&msg);
        if (h && h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS &&
            h->cmsg_len == CMSG_LEN(sizeof(int))) {
            int fd;
            memcpy(&fd, CMSG_DATA(h), sizeof fd);
            set_nonblocking(fd);
            conn_open(l, fd);
        } else if (msg.msg_flags & MSG_CTRUNC) {
            errno = EMFILE; /* cannot happen with the spare, but say so if it does */
            warn("recvmsg(SCM_RIGHTS)");
        }
    }
    return true;
}

static void begin_drain(struct loop *l)
{
    if (l->stopping)
        return;
    l->stopping = true;
    l->deadline = now_ms() + l->o->grace_ms;
    l->intake_resume = 0;
    /* Stop accepting: closing a descriptor also removes it from the epoll set. */
    if (l->listen_fd >= 0) {
        xclose(l->listen_fd);
        l->listen_fd = -1;
    }
    if (l->fd_source >= 0) {
        xclose(l->fd_source);
        l->fd_source = -1;
    }
    ctl(l, EPOLL_CTL_DEL, l->stop_fd, 0, NULL); /* it stays readable from now on */
    /* Idle sessions close now; busy ones once their owed acks are written. */
    for (struct conn *c = l->conns, *next; c; c = next) {
        next = c->next;
        advance(l, c);
    }
}

void event_loop_run(const struct options *o, int listen_fd, int fd_source, int stop_fd)
{
    for (size_t i = 0; i < ACK_BATCH; i++)
        memcpy(acks + i * ACK_LEN, ACK, ACK_LEN);
    struct loop loop = {
        .o = o, .listen_fd = listen_fd, .fd_source = fd_source, .stop_fd = stop_fd,
        .spare_fd = -1,
    };
    struct loop *l = &loop;
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    if (l->ep < 0)
        die("epoll_create1");
    if (listen_fd >= 0)
        ctl(l, EPOLL_CTL_ADD, listen_fd, EPOLLIN, &TAG_LISTEN);
    if (fd_source >= 0)
        ctl(l, EPOLL_CTL_ADD, fd_source, EPOLLIN, &TAG_SOURCE);
    ctl(l, EPOLL_CTL_ADD, stop_fd, EPOLLIN, &TAG_STOP);

    struct epoll_event events[256];
    while (!l->stopping || l->nconns > 0) {
        /* Sleep until the next ack is due, accepting may resume, or the grace ends. */
        int64_t now = now_ms(), wake = -1;
        if (l->timer_head)
            wake = l->timer_head->due;
        if (l->intake_resume > 0 && (wake < 0 || l->intake_resume < wake))
            wake = l->intake_resume;
        if (l->stopping && (wake < 0 || l->deadline < wake))
            wake = l->deadline;
        int timeout = wake < 0 ? -1 : wake <= now ? 0 : (int)(wake - now);

        int n = epoll_wait(l->ep, events, 256, timeout);
        if (n < 0) {
            if (errno != EINTR)
                die("epoll_wait");
            n = 0;
        }
        /* A drain frees connections, so it waits until this batch is handled. */
        bool drain = false;
        for (int i = 0; i < n; i++) {
            void *tag = events[i].data.ptr;
            if (tag == &TAG_STOP) {
                drain = true;
            } else if (tag == &TAG_LISTEN) {
                accept_clients(l);
            } else if (tag == &TAG_SOURCE) {
                if (!receive_clients(l))
                    drain = true;
            } else {
                struct conn *c = tag;
                if (events[i].events & (EPOLLERR | EPOLLHUP))
                    conn_close(l, c, false); /* reset: drop this session only */
                else
                    advance(l, c);
            }
        }

        now = now_ms();
        /* Only timers already due. Work of a delay 0 never waits here: advance()
         * does it at once, and READS_PER_ROUND keeps a flooding client from
         * holding the loop to itself. */
        while (l->timer_head && l->timer_head->due <= now) {
            struct conn *c = l->timer_head;
            timer_remove(l, c);
            c->out_left = ACK_LEN; /* the work is done: its ack is owed */
            advance(l, c);
        }

        if (l->intake_resume > 0 && now >= l->intake_resume)
            resume_intake(l);
        if (drain)
            begin_drain(l);
        if (l->stopping && now_ms() >= l->deadline) {
            while (l->conns)
                conn_close(l, l->conns, true); /* grace is over: FIN the rest */
        }
    }
    if (l->spare_fd >= 0)
        xclose(l->spare_fd);
    xclose(l->ep);
}
