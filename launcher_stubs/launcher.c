/*
 * shimgen launcher
 * ================
 *
 * This small program is what sits in <prefix>\Scripts\NAME.exe. It never
 * contains the tool it starts, so an installer can replace the tool while
 * this file stays untouched, even while it runs. Every run goes like this,
 * one banner below per step, and run() at the end reads as this list:
 *
 *   1. find ourselves: our own path, long and plain, gives the command name
 *      and the prefix;
 *   2. read the link record <prefix>\.shimgen\links\NAME, and close it at once;
 *   3. confine every path it names to the prefix;
 *   4. start the target inside a job object (killing us kills the tool), with
 *      our command-line tail passed through verbatim; from then on Ctrl-C and
 *      Ctrl-Break are the tool's to handle;
 *   5. let go of what the user may want back: pipes, our working folder, and
 *      in the GUI build the foreground;
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

#define PATH_CAP 32768          /* longest Windows path, in UTF-16 units */
#define RECORD_CAP 16384        /* largest link record or config, in bytes */

/* Our own mapped image. Hidden: addressed directly, not through a pointer. */
extern const IMAGE_DOS_HEADER __ImageBase __attribute__((visibility("hidden")));

/* ------------------------------------------------------------------------
 * What the steps share, in the order they fill it in. Static, so zeroed.
 * ------------------------------------------------------------------------ */

static WCHAR self[PATH_CAP];                    /* 1: our own path, long and plain */
static WCHAR command[PATH_CAP];                 /* 1: the command we stand for */
static WCHAR prefix[PATH_CAP];                  /* 1: the environment, no trailing '\' */
static WCHAR link_path[2 * PATH_CAP];           /* 2: <prefix>\.shimgen\links\<command> */
static WCHAR target[3 * PATH_CAP];              /* 3: the program to start, confined */
static WCHAR script[3 * PATH_CAP];              /* 3: the script it is given, if any */
static WCHAR child_command_line[6 * PATH_CAP];  /* 4: what the tool receives */
static HANDLE job;                              /* 4: the tool's job object */
static PROCESS_INFORMATION child;               /* 4: the tool */
static int debug;                               /* SHIMGEN_DEBUG=1: trace each step */
static WCHAR line[8 * PATH_CAP];                /* an error or trace line being written */

/* ------------------------------------------------------------------------
 * Text: paths are UTF-16, our own words ASCII. Both append with put(), which
 * returns the new end so that joins read left to right.
 * ------------------------------------------------------------------------ */

#define SMALL __attribute__((noinline))   /* called often: one copy beats inlined loops */

static SMALL WCHAR *putw(WCHAR *end, const WCHAR *text) {
    while ((*end = *text++)) end++;
    return end;
}

static SMALL WCHAR *puta(WCHAR *end, const char *text) {
    while ((*end = (WCHAR)(BYTE)*text++)) end++;
    return end;
}

static int is_separator(WCHAR c) { return c == '\\' || c == '/'; }

static int is_blank(WCHAR c) { return c == ' ' || c == '\t'; }

/* Length of the ASCII word that text begins with, or 0 if it does not.
 * With fold = 32, the word's lower-case letters match either case. */
static SMALL int begins(const WCHAR *text, const char *word, int fold) {
    int n = 0;
    while (word[n]) {
        WCHAR c = text[n] | (word[n] >= 'a' ? fold : 0);
        if (c != (WCHAR)word[n]) return 0;
        n++;
    }
    return n;
}

/* ------------------------------------------------------------------------
 * Errors and tracing: one line on stderr (a message box in the GUI build).
 * ------------------------------------------------------------------------ */

/* Write line, up to end, to stderr. */
static void write_stderr(const WCHAR *end) {
    static char utf8[sizeof line * 2];
    HANDLE err = GetStdHandle(STD_ERROR_HANDLE);
    DWORD length = (DWORD)(end - line), mode, done;
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
    write_stderr(puta(putw(puta(puta(line, "shimgen: "), what), value), "\n"));
}

/* Say what went wrong (and why), with which path, and how to repair it; exit. */
static void fail(int code, const char *what, const char *why, const WCHAR *path) {
    WCHAR *end = puta(line, "shimgen launcher ");
    end = puta(putw(end, self), ": ");
    end = puta(end, what);
    if (why) end = puta(puta(puta(end, " ("), why), ")");
    if (path) end = putw(puta(end, ": "), path);
    if (link_path[0] && path != link_path) end = puta(putw(puta(end, " (link record "), link_path), ")");
    if (prefix[0]) end = puta(putw(puta(end, ". Repair: shimgen doctor --fix --prefix \""), prefix), "\"");
#if SHIMGEN_GUI
    MessageBoxW(NULL, line, NULL, MB_OK | MB_ICONERROR);
#else
    write_stderr(puta(end, "\n"));
#endif
    ExitProcess((UINT)code);
}

/* ------------------------------------------------------------------------
 * Records: a header line "<kind> 1", then "key=value" lines, UTF-8. The link
 * record and the config section share this syntax. Parsing is strict, so
 * mistakes are loud: unknown or repeated keys and stray lines are errors.
 * ------------------------------------------------------------------------ */

/* Decode and parse the bytes of a record of this kind, which may hold two
 * keys: each value found is pointed to by its slot (else NULL). The values
 * live in one buffer, which the next record parsed reuses. Returns NULL on
 * success, else what is wrong. */
static const char *parse_record(const char *bytes, int size, const char *kind,
                                const char *first_key, WCHAR **first,
                                const char *second_key, WCHAR **second) {
    static WCHAR text[RECORD_CAP + 1];
    *first = *second = NULL;
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, bytes, size, text, RECORD_CAP);
    if (n <= 0 && size) return "not UTF-8";           /* an empty record has no target */
    text[n] = 0;

    WCHAR *next;
    for (WCHAR *at = text; *at; at = next) {
        /* Cut out one line, tolerating CRLF from editors. */
        WCHAR *end = at;
        while (*end && *end != '\n') end++;
        next = *end ? end + 1 : end;
        *end = 0;
        if (end > at && end[-1] == '\r') end[-1] = 0;

        if (at == text) {                             /* the header: "<kind> 1" */
            int kind_length = begins(at, kind, 0);
            if (!kind_length || at[kind_length] != ' ') return "not a shimgen record";
            if (at[kind_length + 1] != '1' || at[kind_length + 2]) return "newer format version";
            continue;
        }

        WCHAR *value = at;                            /* "key=value" */
        while (*value && *value != '=') value++;
        if (!*value) return "line without '='";
        value++;
        int key_length = (int)(value - at);           /* the key and its '=' */
        WCHAR **slot = begins(at, first_key, 0) == key_length    ? first
                       : begins(at, second_key, 0) == key_length ? second
                                                                 : NULL;
        if (!slot) return "unknown key";
        if (*slot) return "key given twice";
        for (WCHAR *c = value; *c; c++)
            if (*c < 0x20) return "control character";
        *slot = value;
    }
    return NULL;
}

/* ------------------------------------------------------------------------
 * Step 1: who are we? Our own path names the command and the prefix.
 * ------------------------------------------------------------------------ */

/* The config section of a launcher generated for another layout, up to its
 * NUL padding. It is in our mapped image, so reading it opens no file. */
static const char *config_section(int *size) {
    const BYTE *base = (const BYTE *)&__ImageBase;
    const IMAGE_NT_HEADERS *nt = (const IMAGE_NT_HEADERS *)(base + __ImageBase.e_lfanew);
    const IMAGE_SECTION_HEADER *section = IMAGE_FIRST_SECTION(nt);
    for (int i = 0; i < nt->FileHeader.NumberOfSections; i++, section++) {
        int k = 0;
        while (k < 8 && section->Name[k] == (BYTE)".shimcfg"[k]) k++;
        if (k < 8) continue;
        const char *data = (const char *)(base + section->VirtualAddress);
        while (*size < (int)section->Misc.VirtualSize && *size < RECORD_CAP && data[*size]) ++*size;
        return data;
    }
    return NULL;
}

/* Windows gives our path in the form we were started by: \\?\C:\env\... or
 * \\?\UNC\server\share\... when a parent used the extended form (Rust's
 * Command does for long paths, and so do tools that canonicalise). No file
 * API folds ".." in that form, and GetFullPathNameW is no help either (there
 * ".." can climb past the drive), so we take the plain form, C:\env\... or
 * \\server\share\..., and fold it like any other path. for_file_api (step 2)
 * puts the \\?\ back where a path is too long without it. Other \\?\ paths
 * (\\?\Volume{...}\) have no plain form and stay as they are. */
static void take_plain_form(WCHAR *path) {
    if (!begins(path, "\\\\?\\", 0)) return;
    if (begins(path + 4, "unc\\", 32))
        putw(path + 2, path + 8);                     /* \\?\UNC\server\... -> \\server\... */
    else if (path[5] == ':')                          /* (a short path's NUL is followed by more 0s) */
        putw(path, path + 4);                         /* \\?\C:\... -> C:\... */
}

static void find_ourselves(void) {
    static WCHAR joined[2 * PATH_CAP];
    if (!GetModuleFileNameW(NULL, self, PATH_CAP)) fail(EXIT_INTERNAL, "no own path", 0, 0);
    GetLongPathNameW(self, self, PATH_CAP);           /* started as RUFF~1.EXE, we still want "ruff" */
    take_plain_form(self);
    trace("launcher ", self);

    /* A launcher made for another layout names its command and prefix. */
    WCHAR *configured_command = NULL, *configured_prefix = NULL;
    int size = 0;
    const char *config = config_section(&size);
    if (config) {
        const char *fault = parse_record(config, size, "shimgen-launcher",
                                         "command=", &configured_command, "prefix=", &configured_prefix);
        if (fault) fail(EXIT_INTERNAL, "bad .shimcfg section", fault, 0);
    }

    /* The command: our file name without ".exe", unless the config names it. */
    WCHAR *name = self;
    for (WCHAR *c = self; *c; c++)
        if (is_separator(*c)) name = c + 1;
    if (configured_command) {
        putw(command, configured_command);
    } else {
        WCHAR *end = putw(command, name);
        if (end - command > 4 && begins(end - 4, ".exe", 32)) end[-4] = 0;
    }
    for (WCHAR *c = command; *c; c++)
        if (is_separator(*c) || *c == ':' || *c < 0x20) fail(EXIT_INTERNAL, "invalid command name", 0, command);

    /* The prefix: the parent of our folder (Scripts\..), unless the config
     * names one, absolute or relative to our folder. GetFullPathNameW folds
     * the ".." and opens nothing. */
    const WCHAR *relative = configured_prefix ? configured_prefix : L"..";
    int absolute = relative[0] == '\\' || (relative[0] && relative[1] == ':');
    putw(joined, self);
    putw(absolute ? joined : joined + (name - self), relative);
    DWORD n = GetFullPathNameW(joined, PATH_CAP, prefix, NULL);
    if (n == 0 || n >= PATH_CAP) fail(EXIT_INTERNAL, "bad prefix", 0, joined);
    if (prefix[n - 1] == '\\') prefix[n - 1] = 0;     /* "C:\" joins as "C:" */
}

/* ------------------------------------------------------------------------
 * Step 2: read the link record, with full sharing and an immediate close, so
 * an installer swapping the record (renaming over it) never fails because of us.
 * ------------------------------------------------------------------------ */

/* Without the LongPathsEnabled policy, file APIs need the \\?\ form for long
 * paths: \\?\C:\... for C:\..., \\?\UNC\server\... for \\server\.... It is
 * another view of the same path, used only to open files. */
static const WCHAR *for_file_api(const WCHAR *path) {
    static WCHAR extended[3 * PATH_CAP + 8];
    int unc = is_separator(path[0]);
    if (unc && (path[2] == '?' || path[2] == '.')) return path;  /* a device path already */
    WCHAR *start = puta(extended, unc ? "\\\\?\\UNC" : "\\\\?\\");
    return putw(start, path + unc) - start < MAX_PATH - 12 ? path : extended;
}

/* Fill in the record's two paths: the target (required) and the script. */
static void read_link_record(WCHAR **target_path, WCHAR **script_path) {
    static char bytes[RECORD_CAP];
    putw(puta(putw(link_path, prefix), "\\.shimgen\\links\\"), command);
    trace("link record ", link_path);

    HANDLE file = CreateFileW(for_file_api(link_path), GENERIC_READ,
                              FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                              NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (file == INVALID_HANDLE_VALUE) fail(EXIT_LINK_MISSING, "no link record", 0, link_path);
    DWORD size = 0, got = 1;
    while (got && size < RECORD_CAP && ReadFile(file, bytes + size, RECORD_CAP - size, &got, NULL))
        size += got;
    CloseHandle(file);

    const char *fault = "too large";
    if (size < RECORD_CAP)
        fault = parse_record(bytes, (int)size, "shimgen-link",
                             "target=", target_path, "script=", script_path);
    if (!fault && !*target_path) fault = "no target";
    if (fault) fail(EXIT_LINK_INVALID, "bad link record", fault, link_path);
}

/* ------------------------------------------------------------------------
 * Step 3: confine a path from the record to the prefix. It must be relative
 * and free of ':' (no drive, no stream); joined to the prefix and folded by
 * GetFullPathNameW (which resolves "." and ".." and opens nothing), it must
 * still lie inside the prefix. We never search PATH or the current folder.
 * ------------------------------------------------------------------------ */

static void confine(WCHAR *out, const WCHAR *relative) {
    static WCHAR joined[3 * PATH_CAP];
    WCHAR *inside = puta(putw(joined, prefix), "\\");  /* where the prefix ends */
    putw(inside, relative);

    const char *why = NULL;
    if (!relative[0] || is_separator(relative[0])) why = "not a relative path";
    for (const WCHAR *c = relative; *c; c++)
        if (*c == ':') why = "drive or stream";
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
 * Step 4: start the target inside a job object.
 *
 * KILL_ON_JOB_CLOSE: if we are killed, our handle closes and the tool dies
 * with its whole tree. BREAKAWAY_OK: a tool may still detach a process on
 * purpose (CREATE_BREAKAWAY_FROM_JOB). We do not use SILENT_BREAKAWAY_OK: it
 * would put every grandchild outside the job, and killing us would orphan
 * them. Instead, once the tool has ended we clear kill-on-close before we
 * exit (step 6), so daemons it left running outlive it just as they would had
 * it been run directly. The child starts suspended and runs only once it is
 * in the job, so no grandchild can be born outside it.
 * ------------------------------------------------------------------------ */

static SMALL void set_kill_on_close(BOOL kill) {
    static JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits;
    limits.BasicLimitInformation.LimitFlags =
        JOB_OBJECT_LIMIT_BREAKAWAY_OK | (kill ? JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE : 0);
    SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof limits);
}

/* Ctrl-C and Ctrl-Break reach the tool as well (same console): it decides,
 * and we live on to pass its exit code. On close, logoff and shutdown we are
 * about to die: let the tool live to receive the same event and clean up. */
static BOOL WINAPI on_console_event(DWORD event) {
    if (event == CTRL_C_EVENT || event == CTRL_BREAK_EVENT) return TRUE;
    set_kill_on_close(FALSE);
    return FALSE;
}

/* The tool's command line: "target" ["script"], then the raw text after our
 * own argv[0], exactly as received. We never parse or re-quote the user's
 * arguments. */
static void build_command_line(const WCHAR *script_or_null) {
    const WCHAR *tail = GetCommandLineW();
    if (*tail == '"') {                               /* argv[0] as Windows parses it: */
        tail++;                                       /* quoted up to the next quote, */
        while (*tail && *tail != '"') tail++;
        if (*tail) tail++;
    } else {
        while (*tail && !is_blank(*tail)) tail++;     /* else up to a blank */
    }
    WCHAR *end = puta(putw(puta(child_command_line, "\""), target), "\"");
    if (script_or_null) end = puta(putw(puta(end, " \""), script_or_null), "\"");
    if (*tail && !is_blank(*tail)) end = puta(end, " ");  /* keep argv[0] apart */
    putw(end, tail);
    trace("command line ", child_command_line);
}

static void start_target(const WCHAR *script_or_null) {
    static STARTUPINFOW startup;
    build_command_line(script_or_null);
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
}

/* ------------------------------------------------------------------------
 * Step 5: let go of what the user may want back while the tool runs.
 * ------------------------------------------------------------------------ */

static void let_go(void) {
    /* Our copies of the standard handles would keep a pipe open after the
     * child closes its end: the reader would never see EOF. */
    for (DWORD id = STD_INPUT_HANDLE; id >= STD_ERROR_HANDLE; id--) {
        HANDLE handle = GetStdHandle(id);
        DWORD mode;
        if (!GetConsoleMode(handle, &mode)) CloseHandle(handle);  /* consoles are shared anyway */
    }
    /* An open working directory blocks deleting or renaming the user's folder. */
    static WCHAR system_folder[MAX_PATH];
    GetSystemDirectoryW(system_folder, MAX_PATH);
    SetCurrentDirectoryW(system_folder);
#if SHIMGEN_GUI
    /* The tool's window may come to the front, and the "app starting"
     * cursor, which lasts until we take a message, goes away. */
    AllowSetForegroundWindow(child.dwProcessId);
    MSG message;
    PostMessageW(NULL, 0, 0, 0);
    GetMessageW(&message, NULL, 0, 0);
#endif
}

/* ------------------------------------------------------------------------
 * Step 6: wait, and pass the tool's exit code on.
 * ------------------------------------------------------------------------ */

static void exit_with_the_tools_code(void) {
    WaitForSingleObject(child.hProcess, INFINITE);
    DWORD code = 1;
    GetExitCodeProcess(child.hProcess, &code);
    set_kill_on_close(FALSE);                         /* what the tool left running outlives it */
    ExitProcess(code);
}

/* ------------------------------------------------------------------------
 * The plan, step by step.
 * ------------------------------------------------------------------------ */

static void run(void) {
    static WCHAR flag[4];
    debug = GetEnvironmentVariableW(L"SHIMGEN_DEBUG", flag, 4) == 1 && flag[0] == '1';

    find_ourselves();                                 /* 1 */
    WCHAR *target_path, *script_path;
    read_link_record(&target_path, &script_path);     /* 2 */
    confine(target, target_path);                     /* 3 */
    if (script_path) confine(script, script_path);
    start_target(script_path ? script : NULL);        /* 4 */
    let_go();                                         /* 5 */
    exit_with_the_tools_code();                       /* 6 */
}

#if SHIMGEN_GUI
void WINAPI gui_entry(void) { run(); }
#else
void WINAPI console_entry(void) { run(); }
#endif
