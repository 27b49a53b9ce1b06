#ifndef CLINUX_SHIM_H
#define CLINUX_SHIM_H
// Linux headers that Swift's Glibc module does not export: the server's event loop uses epoll.
#include <sys/epoll.h>
#endif
