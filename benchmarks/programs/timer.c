/*
 * timer: time process starts from inside Windows (or Wine)
 * ========================================================
 *
 *   timer ROUNDS LISTFILE
 *
 * Timed from inside, Wine's own start-up (the Unix loader, the wineserver
 * connection of `wine timer.exe`) is paid once, by us, and is in no figure.
 *
 * LISTFILE is UTF-8, one command line per line (LF or CRLF; blank lines are
 * skipped). Each round runs every command once; round r starts with command
 * r mod N and goes on cyclically, so over the rounds every command runs at
 * every position and after every other one (interleaving: slow drifts of the
 * machine hit all commands alike).
 *
 * One run: QueryPerformanceCounter, CreateProcessW(NULL, line, ...),
 * WaitForSingleObject, QueryPerformanceCounter. The exit code (which must be
 * 0) is read and the handles closed after the second reading, untimed. Every
 * child gets NUL as stdin, stdout and stderr and creation flags 0: all alike.
 *
 * A line may begin with "job " (then the command line): the child is then
 * started the way shimgen's launcher starts its target (suspended, put into
 * a fresh kill-on-close job object, resumed; the job closed after the wait),
 * to measure what the job object costs on its own.
 *
 * Output, on stdout once all runs are done (writing nothing in between):
 *   ROUND INDEX MICROSECONDS      per run (INDEX: the line's number among commands, from 0)
 *   ROUND INDEX fail CODE         a run that failed: CODE is the child's exit code in hex,
 *                                 or DEAD0000 + the error of our CreateProcessW
 * Exit code: 0 if every run succeeded, 1 if any failed, 2 on a usage error.
 *
 * No C runtime, kernel32 only. Build: benchmarks/launch_workload.py.
 */
#define WIN32_LEAN_AND_MEAN
#define UNICODE
#include <windows.h>

#define MAX_COMMANDS 64
#define FILE_CAP (1 << 20)

static char file_bytes[FILE_CAP];
static WCHAR file_text[FILE_CAP + 1];
static WCHAR *commands[MAX_COMMANDS];
static BOOL in_job[MAX_COMMANDS];
static WCHAR scratch[32768];    /* CreateProcessW may write into its command line: run a copy */
static char out[1 << 20];
static DWORD out_length;

static int is_blank(WCHAR c) { return c == ' ' || c == '\t'; }

/* ------------------------------------------------------------------------
 * Output: our own tiny formatting, buffered, written when full or at the end.
 * ------------------------------------------------------------------------ */

static void flush(void) {
    DWORD done;
    WriteFile(GetStdHandle(STD_OUTPUT_HANDLE), out, out_length, &done, NULL);
    out_length = 0;
}

static void put_text(const char *text) { while (*text) out[out_length++] = *text++; }

static void put_number(unsigned long long value, unsigned base) {
    char digits[24];
    int n = 0;
    do { digits[n++] = "0123456789ABCDEF"[value % base]; value /= base; } while (value);
    while (n) out[out_length++] = digits[--n];
}

/* ------------------------------------------------------------------------
 * Input: "timer ROUNDS LISTFILE" (LISTFILE may be quoted), then the list.
 * ------------------------------------------------------------------------ */

static const WCHAR *skip_program_name(const WCHAR *text) {
    if (*text == '"') {
        for (text++; *text && *text != '"'; text++) ;
        return text + (*text != 0);
    }
    while (*text && !is_blank(*text)) text++;
    return text;
}

/* Split the list file into commands; returns how many, or 0 if it is unusable. */
static int read_list(WCHAR *path) {
    HANDLE file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    if (file == INVALID_HANDLE_VALUE) return 0;
    DWORD size = 0;
    BOOL read = ReadFile(file, file_bytes, FILE_CAP, &size, NULL);
    CloseHandle(file);
    if (!read || size >= FILE_CAP) return 0;
    int n = MultiByteToWideChar(CP_UTF8, 0, file_bytes, (int)size, file_text, FILE_CAP);
    file_text[n < 0 ? 0 : n] = 0;

    int count = 0;
    for (WCHAR *at = file_text, *next; *at; at = next) {
        WCHAR *end = at;
        while (*end && *end != '\n') end++;
        next = end + (*end != 0);
        *end = 0;
        if (end > at && end[-1] == '\r') end[-1] = 0;
        while (is_blank(*at)) at++;
        if (!*at) continue;
        if (count == MAX_COMMANDS) return 0;
        in_job[count] = at[0] == 'j' && at[1] == 'o' && at[2] == 'b' && at[3] == ' ';
        if (in_job[count]) at += 4;
        commands[count++] = at;
    }
    return count;
}

/* ------------------------------------------------------------------------
 * One timed run. Returns the child's exit code (0xDEAD0000 | error if
 * CreateProcessW failed) and stores the elapsed ticks.
 * ------------------------------------------------------------------------ */

static STARTUPINFOW startup;
static PROCESS_INFORMATION child;
static JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits;

static DWORD run_once(int index, LONGLONG *ticks) {
    WCHAR *to = scratch;
    for (const WCHAR *from = commands[index]; (*to = *from); from++) to++;
    LARGE_INTEGER before, after;
    HANDLE job = NULL;

    QueryPerformanceCounter(&before);
    if (in_job[index]) {   /* the launcher's way: suspended, into a kill-on-close job, resumed */
        job = CreateJobObjectW(NULL, NULL);
        SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof limits);
    }
    if (!CreateProcessW(NULL, scratch, NULL, NULL, TRUE, in_job[index] ? CREATE_SUSPENDED : 0, NULL, NULL,
                        &startup, &child)) {
        if (job) CloseHandle(job);
        return 0xDEAD0000 | (GetLastError() & 0xFFFF);
    }
    if (job) {
        AssignProcessToJobObject(job, child.hProcess);
        ResumeThread(child.hThread);
    }
    WaitForSingleObject(child.hProcess, INFINITE);
    QueryPerformanceCounter(&after);

    *ticks = after.QuadPart - before.QuadPart;
    DWORD code = 0xDEADFFFF;
    GetExitCodeProcess(child.hProcess, &code);
    CloseHandle(child.hProcess);
    CloseHandle(child.hThread);
    if (job) CloseHandle(job);
    return code;
}

void WINAPI timer_main(void) {
    /* Arguments: ROUNDS (decimal) and the list file. */
    const WCHAR *at = skip_program_name(GetCommandLineW());
    while (is_blank(*at)) at++;
    DWORD rounds = 0;
    while (*at >= '0' && *at <= '9') rounds = rounds * 10 + (DWORD)(*at++ - '0');
    while (is_blank(*at)) at++;
    static WCHAR path[32768];
    WCHAR *end = path;
    for (at += *at == '"'; *at && *at != '"'; at++) *end++ = *at;
    while (end > path && is_blank(end[-1])) end--;
    *end = 0;
    int count = path[0] ? read_list(path) : 0;
    if (!rounds || !count) {
        put_text("usage: timer ROUNDS LISTFILE (UTF-8, one command line per line, at most 64)\n");
        flush();
        ExitProcess(2);
    }

    /* Every child: NUL for its standard handles, inherited. */
    static SECURITY_ATTRIBUTES inheritable = {sizeof inheritable, NULL, TRUE};
    HANDLE nul = CreateFileW(L"NUL", GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE,
                             &inheritable, OPEN_EXISTING, 0, NULL);
    startup.cb = sizeof startup;
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdInput = startup.hStdOutput = startup.hStdError = nul;
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_BREAKAWAY_OK | JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;

    LARGE_INTEGER frequency;
    QueryPerformanceFrequency(&frequency);
    UINT failed = 0;
    for (DWORD round = 0; round < rounds; round++) {
        for (int k = 0; k < count; k++) {
            int index = (int)((round + (DWORD)k) % (DWORD)count);
            LONGLONG ticks = 0;
            DWORD code = run_once(index, &ticks);
            put_number(round, 10);
            put_text(" ");
            put_number((unsigned)index, 10);
            if (code == 0) {
                put_text(" ");
                put_number((unsigned long long)ticks * 1000000ULL / (unsigned long long)frequency.QuadPart, 10);
            } else {
                failed = 1;
                put_text(" fail ");
                put_number(code, 16);
            }
            put_text("\n");
            if (out_length > sizeof out - 256) flush();
        }
    }
    flush();
    ExitProcess(failed);
}
