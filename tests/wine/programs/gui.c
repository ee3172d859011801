/*
 * gui: a GUI-subsystem test program for the GUI launcher, run under a virtual X display.
 *
 *   gui message-box APP          start APP; find the message box its process shows, print
 *                                "title=[...]" and "text=[...]", press its OK button, print
 *                                "exit=0x%08lx" once APP has ended ("no message box" if none came)
 *   gui without-console APP ARGS start "APP" ARGS (plain words) from a process without a console (ours:
 *                                a GUI program has none), with our standard handles; print APP's exit code
 *   gui console-windows          print "console windows=N" (WineConsoleClass or ConsoleWindowClass
 *                                windows on the desktop) and "attached=0|1" (whether we have one)
 *   gui exit CODE                print "gui exits CODE" and exit with CODE (decimal, or 0x-prefixed hex)
 *
 * Being a GUI program, it gets no console from Windows, and it writes to the standard
 * handles it is given (pipes from the test).
 */
#define WIN32_LEAN_AND_MEAN
#define UNICODE
#include <windows.h>
#include <shellapi.h>

void *memset(void *to, int value, size_t size) {
    for (size_t i = 0; i < size; i++) ((char *)to)[i] = (char)value;
    return to;
}

static void print(const WCHAR *text) {
    static char bytes[16384];
    DWORD done;
    int n = WideCharToMultiByte(CP_UTF8, 0, text, -1, bytes, sizeof bytes, NULL, NULL);
    WriteFile(GetStdHandle(STD_OUTPUT_HANDLE), bytes, (DWORD)(n - 1), &done, NULL);
}

static int same(const WCHAR *a, const WCHAR *b) {
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

static DWORD wanted_process;
static HWND found;
static int consoles;

static BOOL CALLBACK find_message_box(HWND window, LPARAM unused) {
    WCHAR class_name[64];
    DWORD process = 0;
    GetWindowThreadProcessId(window, &process);
    GetClassNameW(window, class_name, 64);
    if (process == wanted_process && same(class_name, L"#32770") && IsWindowVisible(window)) {
        found = window;
        return FALSE;
    }
    return TRUE;
}

static BOOL CALLBACK count_consoles(HWND window, LPARAM unused) {
    WCHAR class_name[64];
    GetClassNameW(window, class_name, 64);
    if (same(class_name, L"WineConsoleClass") || same(class_name, L"ConsoleWindowClass")) consoles++;
    return TRUE;
}

/* Start COMMAND (APP and its arguments) with our standard handles; its process. */
static PROCESS_INFORMATION start(const WCHAR *app, const WCHAR *command) {
    STARTUPINFOW startup = {sizeof startup};
    PROCESS_INFORMATION process;
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    startup.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
    startup.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    if (!CreateProcessW(app, (WCHAR *)command, NULL, NULL, TRUE, 0, NULL, NULL, &startup, &process)) {
        print(L"cannot start\n");
        ExitProcess(3);
    }
    return process;
}

static void print_exit_code(HANDLE process) {
    static WCHAR line[64];
    DWORD code = 0;
    if (WaitForSingleObject(process, 30000) != WAIT_OBJECT_0) print(L"still running\n");
    GetExitCodeProcess(process, &code);
    wsprintfW(line, L"exit=0x%08lx\n", code);
    print(line);
}

void WINAPI gui_main(void) {
    static WCHAR line[8192], command[4096], title[256], text[4096];
    int argc;
    WCHAR **argv = CommandLineToArgvW(GetCommandLineW(), &argc);
    if (argc > 2 && same(argv[1], L"message-box")) {
        wsprintfW(command, L"\"%s\"", argv[2]);
        PROCESS_INFORMATION app = start(argv[2], command);
        wanted_process = app.dwProcessId;
        for (int i = 0; i < 300 && !found && WaitForSingleObject(app.hProcess, 0) == WAIT_TIMEOUT; i++) {
            EnumWindows(find_message_box, 0);
            if (!found) Sleep(50);
        }
        if (found) {
            GetWindowTextW(found, title, 256);
            GetDlgItemTextW(found, 0xFFFF, text, 4096);   /* the static control of a message box */
            wsprintfW(line, L"title=[%s]\ntext=[%s]\n", title, text);
            print(line);
            PostMessageW(found, WM_COMMAND, IDOK, 0);
        } else {
            print(L"no message box\n");
        }
        print_exit_code(app.hProcess);
        ExitProcess(0);
    }
    if (argc > 2 && same(argv[1], L"without-console")) {
        FreeConsole();
        WCHAR *end = command + wsprintfW(command, L"\"%s\"", argv[2]);
        for (int i = 3; i < argc; i++) end += wsprintfW(end, L" %s", argv[i]);  /* plain words */
        print_exit_code(start(argv[2], command).hProcess);
        ExitProcess(0);
    }
    if (argc > 2 && same(argv[1], L"exit")) {
        DWORD code = 0, base = 10;
        const WCHAR *digit = argv[2];
        if (digit[0] == '0' && (digit[1] | 32) == 'x') base = 16, digit += 2;
        for (; *digit; digit++) code = code * base + (*digit <= '9' ? *digit - '0' : (*digit | 32) - 'a' + 10);
        wsprintfW(line, L"gui exits %s\n", argv[2]);
        print(line);
        ExitProcess(code);
    }
    if (argc > 1 && same(argv[1], L"console-windows")) {
        EnumWindows(count_consoles, 0);
        wsprintfW(line, L"console windows=%d attached=%d\n", consoles, GetConsoleWindow() != NULL);
        print(line);
        ExitProcess(0);
    }
    ExitProcess(100);
}
