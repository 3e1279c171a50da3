/* The listening socket (see serve_listen.h). */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "serve_listen.h"
#include "status.h"

/* Binds and listens; see serve_listen.h. */
kiln_status serve_listen(const char *host, unsigned port, int *fd, unsigned *bound)
{
    struct addrinfo hints, *ai = NULL;
    struct sockaddr_storage addr;
    socklen_t len = sizeof(addr);
    char service[16];
    int s, one = 1, rc;

    *fd = -1;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    snprintf(service, sizeof(service), "%u", port);
    rc = getaddrinfo(host, service, &hints, &ai);
    if (rc != 0)
        return kiln_fail(KILN_E_CONFIG, "[serve] host: '%s' is not an IPv4 or IPv6 address (%s)",
                         host, gai_strerror(rc));
    s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (s < 0) {
        freeaddrinfo(ai);
        return kiln_fail(KILN_E_IO, "socket: %s", strerror(errno));
    }
    (void)setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(s, ai->ai_addr, ai->ai_addrlen) != 0 || listen(s, 128) != 0 ||
        getsockname(s, (struct sockaddr *)&addr, &len) != 0) {
        int e = errno;
        freeaddrinfo(ai);
        close(s);
        return kiln_fail(KILN_E_IO, "cannot listen on %s port %u: %s", host, port, strerror(e));
    }
    freeaddrinfo(ai);
    *bound = addr.ss_family == AF_INET6
           ? ntohs(((struct sockaddr_in6 *)&addr)->sin6_port)
           : ntohs(((struct sockaddr_in *)&addr)->sin_port);
    *fd = s;
    return KILN_OK;
}
