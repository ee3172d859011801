/*
 * waiter: a native tool that runs for as long as a test wants, for the upgrade-while-running tests.
 *
 *   waiter FILE    create FILE.started, wait until FILE exists, print our sibling version.txt, exit 0
 *
 * So a test knows the tool is running before it upgrades, and that the same process (still the old
 * version, read from beside its own .exe) finishes after the upgrade.
 */
#define WIN32_LEAN_AND_MEAN
#define UNICODE
#include <windows.h>
#include <shellapi.h>

static WCHAR path[MAX_PATH * 2];
static char bytes[4096];

static void print_sibling(const WCHAR *name) {
    DWORD n = GetModuleFileNameW(NULL, path, MAX_PATH), size = 0, done;
    while (n && path[n - 1] != '\\') n--;
    lstrcpyW(path + n, name);
    HANDLE file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_DELETE, NULL, OPEN_EXISTING, 0, NULL);
    if (file == INVALID_HANDLE_VALUE) ExitProcess(104);
    ReadFile(file, bytes, sizeof bytes, &size, NULL);
    CloseHandle(file);
    WriteFile(GetStdHandle(STD_OUTPUT_HANDLE), bytes, size, &done, NULL);
}

void WINAPI waiter_main(void) {
    int argc;
    WCHAR **argv = CommandLineToArgvW(GetCommandLineW(), &argc);
    if (argc < 2) ExitProcess(2);
    lstrcpyW(path, argv[1]);
    lstrcatW(path, L".started");
    CloseHandle(CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL));
    while (GetFileAttributesW(argv[1]) == INVALID_FILE_ATTRIBUTES) Sleep(20);
    print_sibling(L"version.txt");
    ExitProcess(0);
}
