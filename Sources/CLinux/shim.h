#ifndef CLINUX_SHIM_H
#define CLINUX_SHIM_H
// Linux headers that Swift's Glibc module does not export: the event loops use epoll and an
// eventfd to be woken; new ids come from getrandom; the test harness starts children that inherit no descriptor
// (posix_spawn's closefrom, a GNU extension of glibc 2.34).
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <spawn.h>

/// Names the calling thread for the kernel (top -H, /proc/<pid>/task/*/comm): prctl is variadic,
/// which Swift cannot call.
static inline int clinux_set_thread_name(const char *name) { return prctl(PR_SET_NAME, name, 0, 0, 0); }

extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);
#endif
