/*
 * noop: the cheapest real Windows program, for the launch-overhead benchmark.
 *
 * It loads kernel32 (as every program does) and exits with 0 at once, so
 * starting it costs one process start and reap and nothing else: the floor
 * any launcher's overhead is compared with. No C runtime.
 * Build: benchmarks/launch_workload.py.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

void WINAPI noop_main(void) { ExitProcess(0); }
