/*
 * Reads environment files with systemd's own parser, the one behind EnvironmentFile=: the shared
 * library's load_env_file(), then strv_env_clean_with_callback(), which is what the service
 * manager applies before a unit's process starts (it drops invalid assignments and duplicates).
 *
 * Usage: parse LIBSYSTEMD_SHARED FILE...
 * For each FILE, writes to stdout: the return value of load_env_file() in decimal, NUL, each
 * NAME=value the process would get followed by NUL, then one more NUL. Dropped assignments are
 * reported on stderr.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

typedef int (*load_env_file_fn)(FILE *f, const char *fname, char ***ret);
typedef char **(*strv_env_clean_fn)(char **l, void (*invalid_callback)(const char *p, void *userdata), void *userdata);
typedef char **(*strv_free_fn)(char **l);

static void report_invalid(const char *p, void *userdata) {
  fprintf(stderr, "%s: dropped invalid assignment: %s\n", (const char *) userdata, p);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s LIBSYSTEMD_SHARED FILE...\n", argv[0]);
    return 2;
  }
  void *library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 2;
  }
  load_env_file_fn load_env_file = (load_env_file_fn) dlsym(library, "load_env_file");
  strv_env_clean_fn strv_env_clean = (strv_env_clean_fn) dlsym(library, "strv_env_clean_with_callback");
  strv_free_fn strv_free = (strv_free_fn) dlsym(library, "strv_free");
  if (!load_env_file || !strv_env_clean || !strv_free) {
    fprintf(stderr, "%s does not export load_env_file, strv_env_clean_with_callback and strv_free\n", argv[1]);
    return 2;
  }
  for (int i = 2; i < argc; i++) {
    char **list = NULL;
    int r = load_env_file(NULL, argv[i], &list);
    if (r >= 0 && list) list = strv_env_clean(list, report_invalid, argv[i]);
    printf("%d", r);
    fputc(0, stdout);
    for (char **p = list; r >= 0 && p && *p; p++) {
      fputs(*p, stdout);
      fputc(0, stdout);
    }
    fputc(0, stdout);
    strv_free(list);
  }
  return fflush(stdout) == 0 ? 0 : 1;
}
