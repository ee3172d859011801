/*
 * probe: a tiny Windows program the Wine tests start through launchers.
 *
 *   probe echo ...          print our raw command line (UTF-8), exit 0
 *   probe exit N            exit with N (decimal, or 0x-prefixed hex)
 *   probe sleep MS          sleep, then print "slept"
 *   probe spawn PIDFILE     start "probe sleep 60000", write "<our pid> <its pid>" to PIDFILE, sleep
 *   probe close-stdout MS   print "bye", close stdout, sleep MS, exit 0
 *   probe cwd               print the current directory
 *   probe run APP FILE      CreateProcessW(APP, <UTF-8 command line in FILE>), wait, print
 *                           "exit=0x%08lx", exit 0: the exact 32-bit code, and an exact command line
 *   probe lock-check PATH   try to open PATH for writing and to delete it; print both errors
 *   probe sibling NAME      print the file NAME next to our own .exe and exit 0; exit 104 if it is missing
 *   probe loop N APP NAME   run "APP sibling NAME" N times, each waited for; print "launches=N failures=F
 *                           first=C retried=R" (C: the first failure's exit code, or 0xDEADxxxx with the
 *                           error of our own CreateProcessW; R: starts retried, see below) and exit 0
 *                           (the children print their siblings in between)
 *   probe hold PATH MS      open PATH sharing only reading (no delete, no write), print "held", sleep MS
 *                           (or print "not held: <error>" and exit 105)
 *   probe mark FILE MS      create FILE (so a test knows we run), sleep MS, print our sibling version.txt
 *   probe stdio             copy stdin to stdout as "out:<text>" and to stderr as "err:<text>"
 *   probe job               print "job=1 limits=0x%lx" for the job we run in (its limit flags), or "job=0"
 *   probe spawn-away PIDFILE  like spawn, but the child is started with CREATE_BREAKAWAY_FROM_JOB
 *   probe daemon PIDFILE    start "probe sleep 60000", write "<our pid> <its pid>" to PIDFILE, exit 0 at once
 *   probe rename-folder DIR NEW  move our working folder off DIR, try to rename DIR to NEW (and back);
 *                           print "rename=<error>" (0: it could be renamed)
 *   probe hold-writing PATH MS  open PATH for writing and deleting, sharing everything; print "held", sleep MS
 *   probe replace SRC DST   MoveFileExW(SRC, DST, REPLACE_EXISTING); print "replace=<error>"
 *   probe short PATH        print the 8.3 short form of PATH
 *   probe eof APP ARGS...   start "APP" "ARG"... with a new pipe as its stdout (and none of ours), read
 *                           it to the end; print "read=<text> eof_ms=<ms> running=<0|1>", running
 *                           being whether APP still ran when the pipe ended
 */
#define WIN32_LEAN_AND_MEAN
#define UNICODE
#include <windows.h>
#include <shellapi.h>

/* No C runtime: the compiler may still call these for struct initialisers (seen on x86). */
void *memset(void *to, int value, size_t size) {
    for (size_t i = 0; i < size; i++) ((char *)to)[i] = (char)value;
    return to;
}

static char out[1 << 20];

static void print(const WCHAR *text) {
    DWORD done;
    int n = WideCharToMultiByte(CP_UTF8, 0, text, -1, out, sizeof out, NULL, NULL);
    WriteFile(GetStdHandle(STD_OUTPUT_HANDLE), out, (DWORD)(n - 1), &done, NULL);
}

static DWORD number(const WCHAR *s) {
    DWORD value = 0, base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) { base = 16; s += 2; }
    for (; *s; s++) {
        DWORD digit = (*s >= '0' && *s <= '9') ? (DWORD)(*s - '0') : (DWORD)((*s | 32) - 'a' + 10);
        value = value * base + digit;
    }
    return value;
}

static int same(const WCHAR *a, const WCHAR *b) { while (*a && *a == *b) { a++; b++; } return *a == *b; }

/* Copy the file NAME next to our own .exe to stdout; FALSE if it is missing. */
static BOOL print_sibling(const WCHAR *name) {
    static WCHAR path[MAX_PATH * 2];
    static char bytes[4096];
    DWORD n = GetModuleFileNameW(NULL, path, MAX_PATH), size = 0, done;
    while (n && path[n - 1] != '\\') n--;
    lstrcpyW(path + n, name);
    HANDLE file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_DELETE, NULL, OPEN_EXISTING, 0, NULL);
    if (file == INVALID_HANDLE_VALUE) return FALSE;
    ReadFile(file, bytes, sizeof bytes, &size, NULL);
    CloseHandle(file);
    WriteFile(GetStdHandle(STD_OUTPUT_HANDLE), bytes, size, &done, NULL);
    return TRUE;
}

/* Start "probe sleep 60000" (with extra creation flags), write "<our pid> <its pid>" to PIDFILE. */
static void spawn_sleeper(const WCHAR *pid_file, DWORD flags) {
    static WCHAR self[MAX_PATH], command[MAX_PATH + 32], line[64];
    STARTUPINFOW startup = {sizeof startup};
    PROCESS_INFORMATION child;
    GetModuleFileNameW(NULL, self, MAX_PATH);
    wsprintfW(command, L"\"%s\" sleep 60000", self);
    if (!CreateProcessW(self, command, NULL, NULL, FALSE, flags, NULL, NULL, &startup, &child)) ExitProcess(101);
    int n = wsprintfW(line, L"%lu %lu", GetCurrentProcessId(), child.dwProcessId);
    HANDLE file = CreateFileW(pid_file, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    DWORD done;
    char ascii[64];
    for (int i = 0; i <= n; i++) ascii[i] = (char)line[i];
    WriteFile(file, ascii, (DWORD)n, &done, NULL);
    CloseHandle(file);
}

/* Start APP with COMMAND, wait; its exit code, or 0xDEAD0000 | the error if it could not start. */
static DWORD launch(const WCHAR *app, WCHAR *command) {
    STARTUPINFOW startup = {sizeof startup};
    PROCESS_INFORMATION child;
    DWORD code;
    if (!CreateProcessW(app, command, NULL, NULL, TRUE, 0, NULL, NULL, &startup, &child))
        return 0xDEAD0000 | (GetLastError() & 0xFFFF);
    WaitForSingleObject(child.hProcess, INFINITE);
    GetExitCodeProcess(child.hProcess, &code);
    CloseHandle(child.hProcess);
    CloseHandle(child.hThread);
    return code;
}

void WINAPI probe_main(void) {
    int argc;
    WCHAR **argv = CommandLineToArgvW(GetCommandLineW(), &argc);
    if (argc < 2) ExitProcess(100);
    if (same(argv[1], L"echo")) {
        print(GetCommandLineW());
        ExitProcess(0);
    }
    if (same(argv[1], L"exit") && argc > 2) ExitProcess(number(argv[2]));
    if (same(argv[1], L"sleep") && argc > 2) {
        Sleep(number(argv[2]));
        print(L"slept");
        ExitProcess(0);
    }
    if (same(argv[1], L"close-stdout") && argc > 2) {
        print(L"bye");
        CloseHandle(GetStdHandle(STD_OUTPUT_HANDLE));
        Sleep(number(argv[2]));
        ExitProcess(0);
    }
    if (same(argv[1], L"cwd")) {
        static WCHAR cwd[MAX_PATH];
        GetCurrentDirectoryW(MAX_PATH, cwd);
        print(cwd);
        ExitProcess(0);
    }
    if ((same(argv[1], L"spawn") || same(argv[1], L"spawn-away") || same(argv[1], L"daemon")) && argc > 2) {
        spawn_sleeper(argv[2], same(argv[1], L"spawn-away") ? CREATE_BREAKAWAY_FROM_JOB : 0);
        if (!same(argv[1], L"daemon")) Sleep(60000);
        ExitProcess(0);
    }
    if (same(argv[1], L"stdio")) {
        static char bytes[4096], copy[4200];
        DWORD size = 0, got = 0, done;
        while (size < sizeof bytes && ReadFile(GetStdHandle(STD_INPUT_HANDLE), bytes + size, sizeof bytes - size, &got, NULL)
               && got)
            size += got;
        for (DWORD i = 0; i < size; i++) copy[4 + i] = bytes[i];
        copy[0] = 'o', copy[1] = 'u', copy[2] = 't', copy[3] = ':';
        WriteFile(GetStdHandle(STD_OUTPUT_HANDLE), copy, size + 4, &done, NULL);
        copy[0] = 'e', copy[1] = 'r', copy[2] = 'r';
        WriteFile(GetStdHandle(STD_ERROR_HANDLE), copy, size + 4, &done, NULL);
        ExitProcess(0);
    }
    if (same(argv[1], L"job")) {
        static WCHAR line[64];
        JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits;
        BOOL in_job = FALSE;
        IsProcessInJob(GetCurrentProcess(), NULL, &in_job);
        if (in_job && QueryInformationJobObject(NULL, JobObjectExtendedLimitInformation, &limits, sizeof limits, NULL))
            wsprintfW(line, L"job=1 limits=0x%lx", limits.BasicLimitInformation.LimitFlags);
        else
            wsprintfW(line, L"job=0");
        print(line);
        ExitProcess(0);
    }
    if (same(argv[1], L"rename-folder") && argc > 3) {
        static WCHAR line[64], system_folder[MAX_PATH];
        GetSystemDirectoryW(system_folder, MAX_PATH);
        SetCurrentDirectoryW(system_folder);
        DWORD error = MoveFileW(argv[2], argv[3]) ? 0 : GetLastError();
        if (!error) MoveFileW(argv[3], argv[2]);
        wsprintfW(line, L"rename=%lu", error);
        print(line);
        ExitProcess(0);
    }
    if (same(argv[1], L"hold-writing") && argc > 3) {
        HANDLE file = CreateFileW(argv[2], GENERIC_WRITE | DELETE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                                  NULL, OPEN_EXISTING, 0, NULL);
        if (file == INVALID_HANDLE_VALUE) ExitProcess(105);
        print(L"held");
        Sleep(number(argv[3]));
        CloseHandle(file);
        ExitProcess(0);
    }
    if (same(argv[1], L"replace") && argc > 3) {
        static WCHAR line[64];
        wsprintfW(line, L"replace=%lu", MoveFileExW(argv[2], argv[3], MOVEFILE_REPLACE_EXISTING) ? 0 : GetLastError());
        print(line);
        ExitProcess(0);
    }
    if (same(argv[1], L"eof") && argc > 2) {
        static WCHAR command[1 << 15], line[256];
        static char bytes[256];
        WCHAR *end = command;
        for (int i = 2; i < argc; i++) end += wsprintfW(end, i == 2 ? L"\"%s\"" : L" \"%s\"", argv[i]);
        SECURITY_ATTRIBUTES inherit = {sizeof inherit, NULL, TRUE};
        HANDLE reader, writer;
        CreatePipe(&reader, &writer, &inherit, 0);
        SetHandleInformation(reader, HANDLE_FLAG_INHERIT, 0);
        STARTUPINFOW startup = {sizeof startup};
        startup.dwFlags = STARTF_USESTDHANDLES;
        startup.hStdOutput = writer;
        PROCESS_INFORMATION child;
        if (!CreateProcessW(argv[2], command, NULL, NULL, TRUE, 0, NULL, NULL, &startup, &child)) ExitProcess(103);
        CloseHandle(writer);                       /* from now on only APP (and what it started) writes */
        DWORD start = GetTickCount(), size = 0, got = 0;
        while (size < sizeof bytes - 1 && ReadFile(reader, bytes + size, sizeof bytes - 1 - size, &got, NULL) && got)
            size += got;
        DWORD elapsed = GetTickCount() - start;
        BOOL running = WaitForSingleObject(child.hProcess, 0) == WAIT_TIMEOUT;
        bytes[size] = 0;
        wsprintfW(line, L"read=%S eof_ms=%lu running=%d", bytes, elapsed, running);
        print(line);
        WaitForSingleObject(child.hProcess, INFINITE);
        ExitProcess(0);
    }
    if (same(argv[1], L"short") && argc > 2) {
        static WCHAR path[MAX_PATH * 4];
        if (!GetShortPathNameW(argv[2], path, MAX_PATH * 4)) ExitProcess(106);
        print(path);
        ExitProcess(0);
    }
    if (same(argv[1], L"run") && argc > 3) {
        static char bytes[1 << 17];
        static WCHAR command[1 << 17], line[64];
        DWORD size = 0, code = 0;
        HANDLE file = CreateFileW(argv[3], GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
        ReadFile(file, bytes, sizeof bytes - 1, &size, NULL);
        CloseHandle(file);
        command[MultiByteToWideChar(CP_UTF8, 0, bytes, (int)size, command, (1 << 17) - 1)] = 0;
        STARTUPINFOW startup = {sizeof startup};
        PROCESS_INFORMATION child;
        if (!CreateProcessW(argv[2], command, NULL, NULL, TRUE, 0, NULL, NULL, &startup, &child)) ExitProcess(103);
        WaitForSingleObject(child.hProcess, INFINITE);
        GetExitCodeProcess(child.hProcess, &code);
        wsprintfW(line, L"exit=0x%08lx", code);
        print(line);
        ExitProcess(0);
    }
    if (same(argv[1], L"lock-check") && argc > 2) {
        static WCHAR line[64];
        HANDLE file = CreateFileW(argv[2], GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                                  NULL, OPEN_EXISTING, 0, NULL);
        DWORD write_error = file == INVALID_HANDLE_VALUE ? GetLastError() : 0;
        if (file != INVALID_HANDLE_VALUE) CloseHandle(file);
        DWORD delete_error = DeleteFileW(argv[2]) ? 0 : GetLastError();
        wsprintfW(line, L"write=%lu delete=%lu", write_error, delete_error);
        print(line);
        ExitProcess(0);
    }
    if (same(argv[1], L"sibling") && argc > 2) ExitProcess(print_sibling(argv[2]) ? 0 : 104);
    if (same(argv[1], L"loop") && argc > 4) {
        static WCHAR command[MAX_PATH * 4], line[128];
        DWORD count = number(argv[2]), failures = 0, first_failure = 0, retried = 0;
        wsprintfW(command, L"\"%s\" sibling %s", argv[3], argv[4]);
        for (DWORD i = 0; i < count; i++) {
            DWORD code = launch(argv[3], command);
            /* Wine 8 fails about one process start in 3,000 with ERROR_INTERNAL_ERROR, launcher or
               not (measured with a plain program). Such a start is tried once more and counted;
               whether it was ours (0xDEAD054F) or the launcher's (245, spawn failed). */
            if (code == 0xDEAD0000 + ERROR_INTERNAL_ERROR || code == 245) {
                retried++;
                code = launch(argv[3], command);
            }
            if (code != 0 && failures++ == 0) first_failure = code;
        }
        wsprintfW(line, L"launches=%lu failures=%lu first=0x%lx retried=%lu", count, failures, first_failure,
                  retried);
        print(line);
        ExitProcess(0);
    }
    if (same(argv[1], L"hold") && argc > 3) {
        HANDLE file = CreateFileW(argv[2], GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
        if (file == INVALID_HANDLE_VALUE) {
            static WCHAR line[64];
            wsprintfW(line, L"not held: %lu", GetLastError());
            print(line);
            ExitProcess(105);
        }
        print(L"held");
        Sleep(number(argv[3]));
        CloseHandle(file);
        ExitProcess(0);
    }
    if (same(argv[1], L"mark") && argc > 3) {
        CloseHandle(CreateFileW(argv[2], GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL));
        Sleep(number(argv[3]));
        ExitProcess(print_sibling(L"version.txt") ? 0 : 104);
    }
    ExitProcess(102);
}
