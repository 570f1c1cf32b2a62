/*
 * event-loop: one thread, any number of clients.
 *
 * epoll tells the loop which sockets are ready; every socket is non-blocking, and
 * the per-message work delay is a timer, never a sleep. So while one client's
 * message is "being worked", the loop serves everybody else. The loop itself
 * lives in event_loop_core.c, shared with the master-worker workers.
 */
#define _GNU_SOURCE
#include "event_loop_core.h"

int main(int argc, char **argv)
{
    struct options o;
    parse_options(argc, argv, &o, 0);
    raise_fd_limit();
    int listen_fd = open_listener(&o, true);
    /* -1: nothing blocks in accept(); the loop watches the stop pipe itself. */
    int stop_fd = install_stop_handlers(-1);
    print_ready_line(listen_fd);
    event_loop_run(&o, listen_fd, -1, stop_fd); /* closes listen_fd when draining */
    return 0;
}
