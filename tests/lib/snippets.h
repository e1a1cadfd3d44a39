/* Configuration snippets the integration tests share: services on loopback, ports @P0@..@P3@. */
#ifndef HELLOD_TEST_SNIPPETS_H
#define HELLOD_TEST_SNIPPETS_H

/* The tutorial's greeting service, TCP, on 127.0.0.1:@P0@. */
#define SN_HELLO_TCP							\
    "[hello]\n"								\
    "protocol = tcp\n"							\
    "port = @P0@\n"							\
    "bind = 127.0.0.1\n"						\
    "handler = hello\n"

/* The same over TCP and UDP. */
#define SN_HELLO_TCP_UDP						\
    "[hello]\n"								\
    "protocol = tcp udp\n"						\
    "port = @P0@\n"							\
    "bind = 127.0.0.1\n"						\
    "handler = hello\n"

/* echo over TCP and UDP on 127.0.0.1:@P1@. */
#define SN_ECHO_P1							\
    "[echo]\n"								\
    "protocol = tcp udp\n"						\
    "port = @P1@\n"							\
    "bind = 127.0.0.1\n"						\
    "handler = echo\n"

#endif
