// Preloaded under valgrind 3.19 only: its rt_sigsuspend wrapper writes into the caller's signal mask, and the Swift
// runtime passes a mask in read-only memory, which crashes valgrind itself. This sigsuspend passes a copy.
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, sizeof(unsigned long));
}
