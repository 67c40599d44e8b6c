// The bare reference the sampler is compared with: one thread reading the same files (or perf
// events) with pread/read at absolute CLOCK_MONOTONIC deadlines, nothing else. Prints JSON.
// usage: sample_loop --hz N --seconds S [--spin-ns N] [--text PATH]... [--msr PATH:OFFSET]...
//                    [--perf EVENT]... [--perf-cpus N] [--dump PATH]
// --dump writes every tick's lateness (int64 ns, in tick order) to PATH for pooled quantiles.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum kind { TEXT, MSR, PERF };
struct input {
  enum kind kind;
  int fd;
  off_t offset;
};

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

// The scheduler's own run time of this thread, as the benchmark reads it for emp-sampler.
static int64_t thread_cpu_ns(void) {
  char buf[128];
  int fd = open("/proc/thread-self/schedstat", O_RDONLY);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
  if (fd >= 0) close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  return strtoll(buf, NULL, 10);
}

static int perf_config(const char* name, uint64_t* config) {
  static const struct {
    const char* name;
    uint64_t config;
  } table[] = {{"task-clock", PERF_COUNT_SW_TASK_CLOCK},
               {"cpu-clock", PERF_COUNT_SW_CPU_CLOCK},
               {"context-switches", PERF_COUNT_SW_CONTEXT_SWITCHES},
               {"page-faults", PERF_COUNT_SW_PAGE_FAULTS},
               {"cpu-migrations", PERF_COUNT_SW_CPU_MIGRATIONS}};
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    if (strcmp(table[i].name, name) == 0) {
      *config = table[i].config;
      return 0;
    }
  }
  return -1;
}

static int cmp_i64(const void* a, const void* b) {
  int64_t x = *(const int64_t*)a, y = *(const int64_t*)b;
  return (x > y) - (x < y);
}

static int64_t quantile(const int64_t* sorted, size_t n, double q) {
  if (n == 0) return -1;
  size_t i = (size_t)(q * (double)n);
  return sorted[i < n ? i : n - 1];
}

int main(int argc, char** argv) {
  double hz = 1000, seconds = 5;
  int64_t spin_ns = 0;
  int perf_cpus = 1;
  const char* dump_path = NULL;
  struct input inputs[64];
  size_t n_inputs = 0;
  const char* perf_names[16];
  size_t n_perf = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const char* key = argv[i];
    const char* value = argv[i + 1];
    if (strcmp(key, "--hz") == 0) {
      hz = atof(value);
    } else if (strcmp(key, "--seconds") == 0) {
      seconds = atof(value);
    } else if (strcmp(key, "--spin-ns") == 0) {
      spin_ns = atoll(value);
    } else if (strcmp(key, "--dump") == 0) {
      dump_path = value;
    } else if (strcmp(key, "--perf-cpus") == 0) {
      perf_cpus = atoi(value);
    } else if (strcmp(key, "--perf") == 0 && n_perf < 16) {
      perf_names[n_perf++] = value;
    } else if ((strcmp(key, "--text") == 0 || strcmp(key, "--msr") == 0) && n_inputs < 64) {
      char path[4096];
      snprintf(path, sizeof path, "%s", value);
      off_t offset = 0;
      enum kind kind = TEXT;
      if (key[2] == 'm') {
        char* colon = strrchr(path, ':');
        if (colon == NULL) return fprintf(stderr, "--msr needs PATH:OFFSET\n"), 2;
        *colon = 0;
        offset = (off_t)strtoull(colon + 1, NULL, 0);
        kind = MSR;
      }
      int fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) return fprintf(stderr, "open %s: %s\n", path, strerror(errno)), 1;
      inputs[n_inputs++] = (struct input){kind, fd, offset};
    } else {
      return fprintf(stderr, "unknown option %s\n", key), 2;
    }
  }
  // Each perf event system-wide on each CPU, summed as emp's perf source does.
  for (size_t e = 0; e < n_perf; e++) {
    uint64_t config;
    if (perf_config(perf_names[e], &config) != 0) return fprintf(stderr, "unknown event %s\n", perf_names[e]), 2;
    for (int cpu = 0; cpu < perf_cpus && n_inputs < 64; cpu++) {
      struct perf_event_attr attr;
      memset(&attr, 0, sizeof attr);
      attr.size = sizeof attr;
      attr.type = PERF_TYPE_SOFTWARE;
      attr.config = config;
      attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
      int fd = (int)syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
      if (fd < 0) return fprintf(stderr, "perf_event_open %s: %s\n", perf_names[e], strerror(errno)), 1;
      inputs[n_inputs++] = (struct input){PERF, fd, 0};
    }
  }

  const int64_t period_ns = (int64_t)(1e9 / hz + 0.5);
  const size_t capacity = (size_t)(hz * seconds) + 16;
  int64_t* lateness = malloc(capacity * sizeof *lateness);
  int64_t* read_ns = malloc(capacity * sizeof *read_ns);
  if (lateness == NULL || read_ns == NULL) return 1;
  // Touch the buffers now so page faults do not land inside the loop.
  memset(lateness, 0, capacity * sizeof *lateness);
  memset(read_ns, 0, capacity * sizeof *read_ns);
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

  uint64_t values[64];
  size_t ticks = 0;
  uint64_t missed = 0;
  const int64_t cpu0 = thread_cpu_ns();
  const int64_t t0 = now_ns();
  const int64_t end_ns = t0 + (int64_t)(seconds * 1e9);
  for (uint64_t k = 0;;) {
    const int64_t deadline = t0 + (int64_t)k * period_ns;
    if (deadline >= end_ns || ticks >= capacity) break;
    const int64_t wake = deadline - spin_ns;
    struct timespec ts = {(time_t)(wake / 1000000000), (long)(wake % 1000000000)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
    int64_t start = now_ns();
    while (start < deadline) start = now_ns();
    for (size_t i = 0; i < n_inputs; i++) {
      char buf[32];
      if (inputs[i].kind == TEXT) {
        ssize_t n = pread(inputs[i].fd, buf, sizeof buf - 1, 0);
        buf[n > 0 ? n : 0] = 0;
        values[i] = strtoull(buf, NULL, 10);
      } else if (inputs[i].kind == MSR) {
        if (pread(inputs[i].fd, &values[i], 8, inputs[i].offset) != 8) values[i] = 0;
      } else {
        uint64_t r[3];
        if (read(inputs[i].fd, r, sizeof r) == (ssize_t)sizeof r) values[i] = r[0];
      }
    }
    const int64_t done = now_ns();
    lateness[ticks] = start - deadline;
    read_ns[ticks] = done - start;
    ticks++;
    uint64_t next = k + 1;
    const int64_t behind = done - (t0 + (int64_t)next * period_ns);
    if (behind > period_ns) {
      missed += (uint64_t)(behind / period_ns);
      next += (uint64_t)(behind / period_ns);
    }
    k = next;
  }
  const int64_t wall_ns = now_ns() - t0;
  const int64_t cpu_ns = thread_cpu_ns() - cpu0;
  if (dump_path != NULL) {
    FILE* dump = fopen(dump_path, "wb");
    if (dump == NULL || fwrite(lateness, sizeof *lateness, ticks, dump) != ticks) return 1;
    fclose(dump);
  }
  qsort(lateness, ticks, sizeof *lateness, cmp_i64);
  qsort(read_ns, ticks, sizeof *read_ns, cmp_i64);
  printf(
      "{\"ticks\":%zu,\"missed\":%llu,\"wall_ns\":%lld,\"cpu_ns\":%lld,\"lateness_ns\":{\"p50\":%lld,\"p99\":%lld,"
      "\"p999\":%lld,\"max\":%lld},\"read_ns\":{\"p50\":%lld,\"p99\":%lld,\"max\":%lld},\"checksum\":%llu}\n",
      ticks, (unsigned long long)missed, (long long)wall_ns, (long long)cpu_ns,
      (long long)quantile(lateness, ticks, 0.5), (long long)quantile(lateness, ticks, 0.99),
      (long long)quantile(lateness, ticks, 0.999), (long long)(ticks ? lateness[ticks - 1] : -1),
      (long long)quantile(read_ns, ticks, 0.5), (long long)quantile(read_ns, ticks, 0.99),
      (long long)(ticks ? read_ns[ticks - 1] : -1), (unsigned long long)values[0]);
  return 0;
}
