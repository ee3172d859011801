/*
 * console: console control events delivered to a tool through a console launcher.
 *
 *   console drive EVENT APP [MODE]  give ourselves a new console, start "APP MODE NAME" on it (MODE
 *                             is tool unless given; our own stdout and stderr as its standard
 *                             handles), wait until the tool is ready, deliver EVENT to the console,
 *                             and report what became of APP (the launcher) and of the tool
 *   console tool NAME         the tool: report each event; on Ctrl-C exit 42, on Ctrl-Break 43
 *                             (the tool decides), on close/logoff/shutdown clean up for a second
 *                             and exit 44
 *   console bare NAME         a process with no handler of its own: Windows' default one decides
 *
 * EVENT is ctrl-c, ctrl-break, close, logoff or shutdown. Ctrl-C goes through
 * GenerateConsoleCtrlEvent, as a key press in the console would. Wine 8 cannot send the
 * others (its wineserver answers CTRL_BREAK_EVENT with STATUS_NOT_IMPLEMENTED, and closing
 * its console window ends every process on it without an event), so they are delivered
 * the way Windows' console host delivers every control event: a thread started in each
 * process on the console at kernelbase's CtrlRoutine, with the event as its argument.
 * That runs each process's own handler chain (SetConsoleCtrlHandler), as on Windows.
 *
 * Output lines are "driver: ..." and "tool: ...", in the order things happened.
 */
#define WIN32_LEAN_AND_MEAN
#define UNICODE
#include <windows.h>
#include <shellapi.h>

void *memset(void *to, int value, size_t size) {
    for (size_t i = 0; i < size; i++) ((char *)to)[i] = (char)value;
    return to;
}

static HANDLE output;          /* the pipe the test reads, kept when we change consoles */

static void say(const WCHAR *format, DWORD_PTR a, DWORD_PTR b) {
    static WCHAR line[256];
    static char bytes[512];
    DWORD done;
    int n = wsprintfW(line, format, a, b);
    n = WideCharToMultiByte(CP_UTF8, 0, line, n, bytes, sizeof bytes, NULL, NULL);
    WriteFile(output, bytes, (DWORD)n, &done, NULL);
}

static int same(const WCHAR *a, const WCHAR *b) {
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

/* Named events shared by the driver and the tool: "<NAME>-ready", "<NAME>-go". */
static HANDLE named_event(const WCHAR *name, const WCHAR *suffix) {
    static WCHAR full[128];
    wsprintfW(full, L"%s-%s", name, suffix);
    return CreateEventW(NULL, TRUE, FALSE, full);
}

/* ---- the tool ---------------------------------------------------------- */

static HANDLE go;              /* set by the handler: the main thread exits with exit_code */
static DWORD exit_code;

static BOOL WINAPI tool_handler(DWORD event) {
    static const WCHAR *names[] = {L"ctrl-c", L"ctrl-break", L"close", L"?", L"?", L"logoff", L"shutdown"};
    say(L"tool: %s\n", (DWORD_PTR)names[event <= 6 ? event : 3], 0);
    if (event == CTRL_C_EVENT || event == CTRL_BREAK_EVENT) {
        exit_code = 42 + event;                       /* the tool decides: a code of its own */
        SetEvent(go);
        return TRUE;
    }
    Sleep(1000);                                      /* cleaning up, while the launcher is gone */
    say(L"tool: cleaned up\n", 0, 0);
    ExitProcess(44);
}

static void tool(const WCHAR *name) {
    go = named_event(name, L"go");
    SetConsoleCtrlHandler(tool_handler, TRUE);
    SetEvent(named_event(name, L"ready"));
    if (WaitForSingleObject(go, 20000) != WAIT_OBJECT_0) {
        say(L"tool: no event came\n", 0, 0);
        ExitProcess(7);
    }
    say(L"tool: exits %lu\n", exit_code, 0);
    ExitProcess(exit_code);
}

/* ---- the driver -------------------------------------------------------- */

static BOOL WINAPI driver_handler(DWORD event) { return TRUE; }  /* the events are not for us */

/* Deliver an event as the console host does: CtrlRoutine(event) in each other process on our console. */
static void deliver_by_thread(DWORD event) {
    LPTHREAD_START_ROUTINE routine =
        (LPTHREAD_START_ROUTINE)GetProcAddress(GetModuleHandleW(L"kernelbase.dll"), "CtrlRoutine");
    DWORD pids[16], count = GetConsoleProcessList(pids, 16);
    for (DWORD i = 0; i < count && i < 16; i++) {
        if (pids[i] == GetCurrentProcessId()) continue;
        HANDLE process = OpenProcess(PROCESS_ALL_ACCESS, FALSE, pids[i]);
        if (!process || !CreateRemoteThread(process, NULL, 0, routine, (void *)(DWORD_PTR)event, 0, NULL))
            say(L"driver: could not deliver to %lu (error %lu)\n", pids[i], GetLastError());
    }
}

/* The tool: the process on our console that is neither us nor the launcher. */
static HANDLE find_tool(DWORD launcher) {
    DWORD pids[16], count = GetConsoleProcessList(pids, 16);
    for (DWORD i = 0; i < count && i < 16; i++)
        if (pids[i] != GetCurrentProcessId() && pids[i] != launcher)
            return OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pids[i]);
    return NULL;
}

static void drive(const WCHAR *event_name, const WCHAR *app, const WCHAR *mode) {
    static const WCHAR *names[] = {L"ctrl-c", L"ctrl-break", L"close", L"?", L"?", L"logoff", L"shutdown"};
    DWORD event = 0;
    while (event < 7 && !same(names[event], event_name)) event++;
    if (event >= 7 || event == 3 || event == 4) ExitProcess(2);

    HANDLE input = GetStdHandle(STD_INPUT_HANDLE), errors = GetStdHandle(STD_ERROR_HANDLE);
    output = GetStdHandle(STD_OUTPUT_HANDLE);
    FreeConsole();                                    /* a console of our own, shared with APP */
    if (!AllocConsole()) {
        say(L"driver: no console (error %lu)\n", GetLastError(), 0);
        ExitProcess(3);
    }
    SetConsoleCtrlHandler(driver_handler, TRUE);

    static WCHAR name[64], command[1024];
    wsprintfW(name, L"shimgen-console-%lu", GetCurrentProcessId());
    HANDLE ready = named_event(name, L"ready");
    wsprintfW(command, L"\"%s\" %s %s", app, mode, name);
    STARTUPINFOW startup = {sizeof startup};
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdInput = input;
    startup.hStdOutput = output;
    startup.hStdError = errors;
    PROCESS_INFORMATION launcher;
    if (!CreateProcessW(app, command, NULL, NULL, TRUE, 0, NULL, NULL, &startup, &launcher)) {
        say(L"driver: cannot start (error %lu)\n", GetLastError(), 0);
        ExitProcess(4);
    }
    if (WaitForSingleObject(ready, 20000) != WAIT_OBJECT_0) {
        say(L"driver: the tool never got ready\n", 0, 0);
        ExitProcess(5);
    }
    HANDLE tool_process = find_tool(launcher.dwProcessId);

    say(L"driver: sends %s\n", (DWORD_PTR)names[event], 0);
    if (event == CTRL_C_EVENT) {
        if (!GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0)) say(L"driver: not sent (error %lu)\n", GetLastError(), 0);
    } else {
        deliver_by_thread(event);
    }

    DWORD code = 0;
    if (WaitForSingleObject(launcher.hProcess, 20000) != WAIT_OBJECT_0) say(L"driver: the launcher still runs\n", 0, 0);
    GetExitCodeProcess(launcher.hProcess, &code);
    BOOL tool_running = tool_process && WaitForSingleObject(tool_process, 0) == WAIT_TIMEOUT;
    say(L"driver: launcher exit=0x%08lx, tool running=%d\n", code, tool_running);
    if (tool_process) {
        WaitForSingleObject(tool_process, 20000);
        GetExitCodeProcess(tool_process, &code);
        say(L"driver: tool exit=0x%08lx\n", code, 0);
    }
    ExitProcess(0);
}

void WINAPI console_main(void) {
    int argc;
    WCHAR **argv = CommandLineToArgvW(GetCommandLineW(), &argc);
    output = GetStdHandle(STD_OUTPUT_HANDLE);
    if (argc > 3 && same(argv[1], L"drive")) drive(argv[2], argv[3], argc > 4 ? argv[4] : L"tool");
    if (argc > 2 && same(argv[1], L"tool")) tool(argv[2]);
    if (argc > 2 && same(argv[1], L"bare")) {
        SetEvent(named_event(argv[2], L"ready"));
        Sleep(20000);
        say(L"bare: no event came\n", 0, 0);
        ExitProcess(7);
    }
    ExitProcess(100);
}
