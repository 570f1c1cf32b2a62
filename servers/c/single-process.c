/*
 * single-process: one loop, one client at a time.
 *
 * accept() a client, serve it until it says goodbye or hangs up, then accept the
 * next. Everyone else waits in the kernel's accept queue (the listen backlog):
 * they are connected, but nobody reads their messages yet.
 */
#define _GNU_SOURCE
#include "protocol.h"

int main(int argc, char **argv)
{
    struct options o;
    parse_options(argc, argv, &o, 0);
    int listen_fd = open_listener(&o, false);
    /* SIGTERM shuts listen_fd down, which ends a blocked accept() without a race. */
    int stop_fd = install_stop_handlers(listen_fd);
    print_ready_line(listen_fd);

    int fd;
    while ((fd = accept_next_client(listen_fd, stop_fd)) >= 0)
        serve_session(fd, &o, stop_fd); /* the whole session, to the end */
    xclose(listen_fd);
    return 0;
}
