/*
 * shimgen launcher
 * ================
 *
 * This small program is what sits in <prefix>\Scripts\NAME.exe. It never
 * contains the tool it starts, so an installer can replace the tool while
 * this file stays untouched, even while it runs. Every run goes like this:
 *
 *   1. find ourselves: our long path gives the command name and the prefix;
 *   2. read the link record <prefix>\.shimgen\links\NAME, and close it at once;
 *   3. confine every path it names to the prefix;
 *   4. start the target with our command-line tail passed through verbatim,
 *      inside a job object, so that killing us kills the tool;
 *   5. let go of what the user may want back (pipes, our working folder);
 *   6. wait, and exit with the tool's exit code.
 *
 * The standard layout needs no per-command data, so every launcher of one
 * architecture and subsystem is the same bytes (sign once, one hash for
 * antivirus reputation). Other layouts carry a ".shimcfg" PE section, which
 * we read from our mapped image, never by opening our own file.
 *
 * No C runtime: Win32 only (kernel32; user32 in the GUI build for message
 * boxes and the foreground hand-off). Each stub must stay within 8 KiB, so
 * our own words are ASCII, and buffers are sized so that no join can
 * overflow them (inputs are bounded: paths by PATH_CAP, records by
 * RECORD_CAP), which spares a bounds check at every step.
 *
 * The formats read here are specified in README.md ("On-disk formats"), and
 * src/shimgen/linkrecord.py applies the same rules in Python.
 * Build: python launcher_stubs/build.py
 */
#define WIN32_LEAN_AND_MEAN
#define UNICODE
#include <windows.h>

/* Sections are padded to 512 bytes in the file: to keep each stub within
 * 8 KiB, the 28-byte debug directory (.buildid) joins the read-only data. */
__asm__(".section .drectve,\"yni\"\n.ascii \" -merge:.buildid=.rdata\"\n.text");

#ifndef SHIMGEN_GUI
#define SHIMGEN_GUI 0
#endif

/* Exit codes of the launcher's own failures; the tool's codes pass through. */
#define EXIT_INTERNAL       240 /* our own path or config section is unusable */
#define EXIT_LINK_MISSING   241 /* no readable link record for this command */
#define EXIT_LINK_INVALID   242 /* the link record is malformed */
#define EXIT_TARGET_REFUSED 243 /* a path in the record would leave the prefix */
#define EXIT_TARGET_MISSING 244 /* the record names a file that is not there */
#define EXIT_SPAWN_FAILED   245 /* CreateProcessW refused the target */

/* Our own mapped image. Hidden: addressed directly, not through a pointer. */
extern const IMAGE_DOS_HEADER __ImageBase __attribute__((visibility("hidden")));

#define PATH_CAP 32768          /* longest Windows path, in UTF-16 units */
#define RECORD_CAP 16384        /* largest link record or config, in bytes */

/* ------------------------------------------------------------------------
 * Text: paths are UTF-16, our own words ASCII. Both append with put(), which
 * returns the new end so that joins read left to right.
 * ------------------------------------------------------------------------ */

#define SMALL __attribute__((noinline))   /* called often: one copy beats inlined loops */

static SMALL WCHAR *putw(WCHAR *end, const WCHAR *text) { while ((*end = *text++)) end++; return end; }
static SMALL WCHAR *puta(WCHAR *end, const char *text) { while ((*end = (WCHAR)(BYTE)*text++)) end++; return end; }
static int is_separator(WCHAR c) { return c == '\\' || c == '/'; }
static int is_blank(WCHAR c) { return c == ' ' || c == '\t'; }

/* Length of the ASCII word that text begins with, or 0 if it does not.
 * With fold = 32, letters match in either case. */
static SMALL int begins(const WCHAR *text, const char *word, int fold) {
    int n = 0;
    while (word[n]) if ((text[n] | (word[n] >= 'a' ? fold : 0)) != (WCHAR)word[n]) return 0; else n++;
    return n;
}

/* ------------------------------------------------------------------------
 * Errors and tracing: one line on stderr (a message box in the GUI build).
 * ------------------------------------------------------------------------ */

static WCHAR self[PATH_CAP], prefix[PATH_CAP], link_path[2 * PATH_CAP];
static WCHAR line[8 * PATH_CAP];
static int debug;

static void write_stderr(void) {
    static char utf8[sizeof line * 2];
    HANDLE err = GetStdHandle(STD_ERROR_HANDLE);
    DWORD length = 0, mode, done;
    while (line[length]) length++;
    if (GetConsoleMode(err, &mode)) {                 /* a console shows UTF-16 as is */
        WriteConsoleW(err, line, length, &done, NULL);
    } else {                                          /* files and pipes get UTF-8 */
        length = (DWORD)WideCharToMultiByte(CP_UTF8, 0, line, (int)length, utf8, sizeof utf8, NULL, NULL);
        WriteFile(err, utf8, length, &done, NULL);
    }
}

/* SHIMGEN_DEBUG=1 traces each step of the resolution. */
static void trace(const char *what, const WCHAR *value) {
    if (!debug) return;
    puta(putw(puta(puta(line, "shimgen: "), what), value), "\n");
    write_stderr();
}

/* Say what went wrong (and why), with which path, and how to repair it; exit. */
static void fail(int code, const char *what, const char *why, const WCHAR *path) {
    WCHAR *end = puta(puta(putw(puta(line, "shimgen launcher "), self), ": "), what);
    if (why) end = puta(puta(puta(end, " ("), why), ")");
    if (path) end = putw(puta(end, ": "), path);
    if (link_path[0] && path != link_path) end = puta(putw(puta(end, " (link record "), link_path), ")");
    if (prefix[0]) end = puta(putw(puta(end, ". Repair: shimgen doctor --fix --prefix \""), prefix), "\"");
#if SHIMGEN_GUI
    MessageBoxW(NULL, line, NULL, MB_OK | MB_ICONERROR);
#else
    puta(end, "\n");
    write_stderr();
#endif
    ExitProcess((UINT)code);
}

/* ------------------------------------------------------------------------
 * Records: a header line "<kind> 1", then "key=value" lines, UTF-8. The link
 * record and the config section share this syntax. Parsing is strict, so
 * mistakes are loud: unknown or repeated keys and stray lines are errors.
 * ------------------------------------------------------------------------ */

/* Decode and parse bytes into values[0] and values[1], for the two keys a
 * record of this kind may hold. Returns NULL on success, else what is wrong. */
static const char *parse_record(const char *bytes, int size, WCHAR *text, const char *kind,
                                const char *key0, const char *key1, WCHAR **values) {
    values[0] = values[1] = NULL;
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, bytes, size, text, RECORD_CAP);
    if (n <= 0 && size) return "not UTF-8";           /* an empty record has no target */
    text[n] = 0;
    for (WCHAR *at = text, *next; *at; at = next) {
        WCHAR *end = at;
        while (*end && *end != '\n') end++;
        next = end + (*end != 0);
        *end = 0;
        if (end > at && end[-1] == '\r') end[-1] = 0;          /* tolerate CRLF from editors */
        if (at == text) {
            int kind_length = begins(at, kind, 0);
            if (!kind_length || at[kind_length] != ' ') return "not a shimgen record";
            if (!begins(at + kind_length, " 1", 0) || at[kind_length + 2])
                return "newer format version";
            continue;
        }
        WCHAR *value = at;
        while (*value && *value != '=') value++;
        if (!*value) return "line without '='";
        int length = (int)(++value - at);                      /* the key and its '=' */
        int k = begins(at, key0, 0) == length ? 0 : begins(at, key1, 0) == length ? 1 : -1;
        if (k < 0) return "unknown key";
        if (values[k]) return "key given twice";
        for (WCHAR *c = value; *c; c++) if (*c < 0x20) return "control character";
        values[k] = value;
    }
    return NULL;
}

/* ------------------------------------------------------------------------
 * Step 1: who are we? Our long path names the command and the prefix.
 * ------------------------------------------------------------------------ */

static WCHAR command[PATH_CAP];

/* The config section of a launcher generated for another layout. It is in
 * our mapped image, so reading it opens no file. */
static const char *config_section(int *size) {
    const BYTE *base = (const BYTE *)&__ImageBase;
    const IMAGE_NT_HEADERS *nt = (const IMAGE_NT_HEADERS *)(base + __ImageBase.e_lfanew);
    const IMAGE_SECTION_HEADER *section = IMAGE_FIRST_SECTION(nt);
    for (int i = 0; i < nt->FileHeader.NumberOfSections; i++, section++) {
        int k = 0;
        while (k < 8 && section->Name[k] == (BYTE)".shimcfg"[k]) k++;
        if (k == 8) {
            const char *data = (const char *)(base + section->VirtualAddress);
            while (*size < (int)section->Misc.VirtualSize && *size < RECORD_CAP && data[*size]) ++*size;
            return data;                                    /* up to the NUL padding */
        }
    }
    return NULL;
}

static void find_ourselves(void) {
    static WCHAR config_text[RECORD_CAP + 1], joined[2 * PATH_CAP];
    if (!GetModuleFileNameW(NULL, self, PATH_CAP)) fail(EXIT_INTERNAL, "no own path", 0, 0);
    GetLongPathNameW(self, self, PATH_CAP);   /* started as RUFF~1.EXE, we still want "ruff" */
    trace("launcher ", self);

    WCHAR *values[2] = {NULL, NULL};
    int size = 0;
    const char *config = config_section(&size);
    if (config) {
        const char *fault = parse_record(config, size, config_text, "shimgen-launcher", "command=", "prefix=", values);
        if (fault) fail(EXIT_INTERNAL, "bad .shimcfg section", fault, 0);
    }

    /* The command: our file name without ".exe", unless the config names it. */
    WCHAR *name = self;
    for (WCHAR *c = self; *c; c++) if (is_separator(*c)) name = c + 1;
    WCHAR *end = putw(command, values[0] ? values[0] : name);
    if (!values[0] && end - command > 4 && begins(end - 4, ".exe", 32)) end[-4] = 0;
    for (WCHAR *c = command; *c; c++)
        if (is_separator(*c) || *c == ':' || *c < 0x20) fail(EXIT_INTERNAL, "invalid command name", 0, command);

    /* The prefix: the parent of our folder (Scripts\..), unless the config
     * names one, absolute or relative to our folder. */
    const WCHAR *relative = values[1] ? values[1] : L"..";
    putw(joined, self);
    if (relative[0] == '\\' || (relative[0] && relative[1] == ':')) putw(joined, relative);
    else putw(joined + (name - self), relative);
    DWORD n = GetFullPathNameW(joined, PATH_CAP, prefix, NULL);   /* folds "..", opens nothing */
    if (n == 0 || n >= PATH_CAP) fail(EXIT_INTERNAL, "bad prefix", 0, joined);
    if (prefix[n - 1] == '\\') prefix[n - 1] = 0;                  /* "C:\" joins as "C:" */
}

/* ------------------------------------------------------------------------
 * Step 2: read the link record, with full sharing and an immediate close, so
 * an installer swapping the record (renaming over it) never fails because of us.
 * ------------------------------------------------------------------------ */

/* Long paths without the LongPathsEnabled policy need the \\?\ form for
 * file APIs. It is another view of the same path, used only to open files. */
static const WCHAR *for_file_api(const WCHAR *path) {
    static WCHAR extended[3 * PATH_CAP + 4];
    WCHAR *start = puta(extended, "\\\\?\\");
    return putw(start, path) - start < MAX_PATH - 12 || is_separator(path[0]) ? path : extended;
}

static void read_link_record(WCHAR **values) {
    static char bytes[RECORD_CAP];
    static WCHAR text[RECORD_CAP + 1];
    putw(puta(putw(link_path, prefix), "\\.shimgen\\links\\"), command);
    trace("link record ", link_path);

    HANDLE file = CreateFileW(for_file_api(link_path), GENERIC_READ,
                              FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                              NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (file == INVALID_HANDLE_VALUE) fail(EXIT_LINK_MISSING, "no link record", 0, link_path);
    DWORD size = 0, got = 1;
    while (got && size < RECORD_CAP && ReadFile(file, bytes + size, RECORD_CAP - size, &got, NULL)) size += got;
    CloseHandle(file);

    const char *fault = size >= RECORD_CAP ? "too large"
                        : parse_record(bytes, (int)size, text, "shimgen-link", "target=", "script=", values);
    if (!fault && !values[0]) fault = "no target";
    if (fault) fail(EXIT_LINK_INVALID, "bad link record", fault, link_path);
}

/* ------------------------------------------------------------------------
 * Step 3: confine a path from the record to the prefix. It must be relative
 * and free of ':' (no drive, no stream); joined to the prefix and folded by
 * GetFullPathNameW (which resolves "." and ".." and opens nothing), it must
 * still lie inside the prefix. Device names cannot leave the prefix and fail
 * to start like any other non-program.
 * ------------------------------------------------------------------------ */

static void resolve(WCHAR *out, const WCHAR *relative) {
    static WCHAR joined[3 * PATH_CAP];
    WCHAR *inside = puta(putw(joined, prefix), "\\");      /* where the prefix ends */
    putw(inside, relative);
    const char *why = NULL;
    if (!relative[0] || is_separator(relative[0])) why = "not a relative path";
    for (const WCHAR *c = relative; *c; c++) if (*c == ':') why = "drive or stream";
    DWORD n = GetFullPathNameW(joined, 3 * PATH_CAP, out, NULL);
    if (n == 0 || n >= 3 * PATH_CAP) why = "cannot resolve";
    for (WCHAR *a = joined, *b = out; !why && a < inside; a++, b++)
        if (*a != *b) why = "leaves the environment";
    if (why) fail(EXIT_TARGET_REFUSED, "path refused", why, relative);
    DWORD attributes = GetFileAttributesW(for_file_api(out));
    if (attributes == INVALID_FILE_ATTRIBUTES || (attributes & FILE_ATTRIBUTE_DIRECTORY))
        fail(EXIT_TARGET_MISSING, "file not found", 0, out);
    trace("resolved ", out);
}

/* ------------------------------------------------------------------------
 * Step 4: the command line: "target" ["script"] and then the raw text after
 * our own argv[0], exactly as received. We never parse or re-quote the
 * user's arguments.
 * ------------------------------------------------------------------------ */

static WCHAR child_command_line[6 * PATH_CAP];

static void build_command_line(const WCHAR *target, const WCHAR *script) {
    const WCHAR *tail = GetCommandLineW();
    if (*tail == '"') {                             /* argv[0] as Windows parses it: */
        for (tail++; *tail && *tail != '"'; tail++) /* quoted up to the next quote, */
            ;
        tail += *tail != 0;
    } else {
        while (*tail && !is_blank(*tail)) tail++;   /* else up to a blank */
    }
    WCHAR *end = puta(putw(puta(child_command_line, "\""), target), "\"");
    if (script) end = puta(putw(puta(end, " \""), script), "\"");
    if (*tail && !is_blank(*tail)) end = puta(end, " ");   /* keep argv[0] apart */
    putw(end, tail);
    trace("command line ", child_command_line);
}

/* ------------------------------------------------------------------------
 * Step 5: start the child inside a job object.
 *
 * KILL_ON_JOB_CLOSE: if we are killed, our handle closes and the tool dies
 * with its whole tree. BREAKAWAY_OK: a tool may still detach a process on
 * purpose (CREATE_BREAKAWAY_FROM_JOB). We do not use SILENT_BREAKAWAY_OK: it
 * would put every grandchild outside the job, and killing us would orphan
 * them. Instead, once the tool has ended we clear kill-on-close before we
 * exit, so daemons it left running outlive it just as they would had it been
 * run directly. The child starts suspended and runs only once it is in the
 * job, so no grandchild can be born outside it.
 * ------------------------------------------------------------------------ */

static HANDLE job;

static void set_kill_on_close(BOOL kill) {
    static JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits;
    limits.BasicLimitInformation.LimitFlags =
        JOB_OBJECT_LIMIT_BREAKAWAY_OK | (kill ? JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE : 0);
    SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof limits);
}

/* Ctrl-C and Ctrl-Break reach the child as well (same console): it decides.
 * On close, logoff and shutdown we are about to die: let the tool live to
 * receive the same event and clean up. */
static BOOL WINAPI on_console_event(DWORD event) {
    if (event == CTRL_C_EVENT || event == CTRL_BREAK_EVENT) return TRUE;
    set_kill_on_close(FALSE);
    return FALSE;
}

static HANDLE start_child(const WCHAR *target) {
    static STARTUPINFOW startup;
    static PROCESS_INFORMATION child;
    GetStartupInfoW(&startup);
#if !SHIMGEN_GUI
    /* Hand our standard handles over explicitly, console, file or pipe
     * alike. They are inheritable: that is how we received them. */
    startup.dwFlags |= STARTF_USESTDHANDLES;
    startup.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    startup.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
    startup.hStdError = GetStdHandle(STD_ERROR_HANDLE);
#endif
    job = CreateJobObjectW(NULL, NULL);
    set_kill_on_close(TRUE);
    SetConsoleCtrlHandler(on_console_event, TRUE);

    if (!CreateProcessW(for_file_api(target), child_command_line, NULL, NULL, TRUE,
                        CREATE_SUSPENDED, NULL, NULL, &startup, &child))
        fail(EXIT_SPAWN_FAILED, "cannot start", 0, target);
    /* Inside a job that forbids nesting this fails, and we go on without
     * one: running the tool matters more than the clean-up guarantee. */
    AssignProcessToJobObject(job, child.hProcess);
    ResumeThread(child.hThread);
    CloseHandle(child.hThread);
#if SHIMGEN_GUI
    AllowSetForegroundWindow(child.dwProcessId);    /* the tool's window may come to the front */
    MSG message;                                    /* and the "app starting" cursor goes away */
    PostMessageW(NULL, 0, 0, 0);
    GetMessageW(&message, NULL, 0, 0);
#endif
    return child.hProcess;
}

/* ------------------------------------------------------------------------
 * Step 6: let go, wait, and pass the exit code on.
 * ------------------------------------------------------------------------ */

static void let_go_of_user_resources(void) {
    /* Our copies of the standard handles would keep a pipe open after the
     * child closes its end: the reader would never see EOF. */
    for (DWORD id = STD_INPUT_HANDLE; id >= STD_ERROR_HANDLE; id--) {
        HANDLE handle = GetStdHandle(id);
        DWORD mode;
        if (!GetConsoleMode(handle, &mode)) CloseHandle(handle);  /* consoles are shared anyway */
    }
    /* An open working directory blocks deleting or renaming the user's folder. */
    static WCHAR system_dir[MAX_PATH];
    GetSystemDirectoryW(system_dir, MAX_PATH);
    SetCurrentDirectoryW(system_dir);
}

static void run(void) {
    static WCHAR target[3 * PATH_CAP], script[3 * PATH_CAP], flag[4];
    debug = GetEnvironmentVariableW(L"SHIMGEN_DEBUG", flag, 4) == 1 && flag[0] == '1';

    find_ourselves();

    WCHAR *values[2];
    read_link_record(values);
    resolve(target, values[0]);
    if (values[1]) resolve(script, values[1]);
    build_command_line(target, values[1] ? script : NULL);

    HANDLE child = start_child(target);
    let_go_of_user_resources();

    WaitForSingleObject(child, INFINITE);
    DWORD code = 1;
    GetExitCodeProcess(child, &code);
    set_kill_on_close(FALSE);                 /* what the tool left running outlives it */
    ExitProcess(code);
}

#if SHIMGEN_GUI
void WINAPI gui_entry(void) { run(); }
#else
void WINAPI console_entry(void) { run(); }
#endif
