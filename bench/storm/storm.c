/* Baseline for the storm benchmark: a minimal epoll client that opens N non-blocking connections
 * at once and reports the time from the first connect() to the last established one. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: storm ADDR PORT N\n"); return 2; }
  int n = atoi(argv[3]);
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
  inet_pton(AF_INET, argv[1], &to.sin_addr);
  int ep = epoll_create1(0);
  int *fds = calloc(n, sizeof(int));
  double start = now();
  for (int i = 0; i < n; i++) {
    fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fds[i] < 0) { perror("socket"); return 1; }
    if (connect(fds[i], (struct sockaddr *)&to, sizeof to) < 0 && errno != EINPROGRESS) { perror("connect"); return 1; }
    struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = i };
    epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
  }
  int connected = 0, failed = 0;
  struct epoll_event events[1024];
  double deadline = start + 60;
  while (connected + failed < n && now() < deadline) {
    int k = epoll_wait(ep, events, 1024, 1000);
    for (int j = 0; j < k; j++) {
      int fd = fds[events[j].data.u32], err = 0;
      socklen_t len = sizeof err;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == 0) connected++; else failed++;
      epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
    }
  }
  double seconds = now() - start;
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  double cpu = usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  printf("connected=%d failed=%d seconds=%.6f rate=%.1f cpu_us_per_connection=%.1f\n", connected, failed, seconds, connected / seconds,
         cpu * 1e6 / n);
  return 0;
}
