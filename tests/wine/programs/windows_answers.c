/*
 * windows_answers: launcher.c itself, compiled unchanged, with three Win32 calls answered as
 * Windows answers them where Wine 8 answers otherwise. The tests run it like a launcher.
 *
 * 1. GetModuleFileNameW: the path the process was started by. Started as \\?\C:\env\...,
 *    Windows returns that \\?\ form; Wine always returns the plain one (and for a UNC start it
 *    returns "UNC\server\..."). So SHIMGEN_TEST_MODULE_PATH, when set, is the answer: the tests
 *    give the \\?\, \\?\UNC\, UNC and 8.3 forms of the launcher's real path (an empty value:
 *    the call fails).
 * 2. File APIs without the \\?\ form refuse paths of MAX_PATH or more on Windows unless the
 *    LongPathsEnabled policy is on (ERROR_FILENAME_EXCED_RANGE); Wine has no such limit. So
 *    CreateFileW and GetFileAttributesW refuse them here too, as on a default Windows.
 * 3. GetFullPathNameW folds ".." after \\?\ in Wine (Wine's own conformance tests show Windows
 *    doing so, with \\?\ as the root); read literally, Microsoft's documentation says \\?\ paths
 *    are not normalised. With SHIMGEN_TEST_VERBATIM=1 a \\?\ path comes back unchanged, so the
 *    tests show the launcher right under either reading.
 *
 * Everything else, including every other Win32 call, is the real thing.
 */
#define WIN32_LEAN_AND_MEAN
#define UNICODE
#include <windows.h>

static int has_flag(const WCHAR *name) {
    WCHAR value[4];
    return GetEnvironmentVariableW(name, value, 4) == 1 && value[0] == '1';
}

static int is_extended(const WCHAR *path) {
    return path[0] == '\\' && path[1] == '\\' && path[2] == '?' && path[3] == '\\';
}

static int too_long_for_windows(const WCHAR *path) {
    int length = 0;
    while (path[length]) length++;
    if (length < MAX_PATH || is_extended(path)) return 0;
    SetLastError(ERROR_FILENAME_EXCED_RANGE);
    return 1;
}

static DWORD WINAPI answer_GetModuleFileNameW(HMODULE module, WCHAR *path, DWORD size) {
    SetLastError(0);
    DWORD length = GetEnvironmentVariableW(L"SHIMGEN_TEST_MODULE_PATH", path, size);
    if (length || GetLastError() != ERROR_ENVVAR_NOT_FOUND) return length < size ? length : 0;
    return GetModuleFileNameW(module, path, size);
}

static DWORD WINAPI answer_GetFullPathNameW(const WCHAR *path, DWORD size, WCHAR *out, WCHAR **file) {
    if (!is_extended(path) || !has_flag(L"SHIMGEN_TEST_VERBATIM")) return GetFullPathNameW(path, size, out, file);
    DWORD length = 0;
    while (path[length]) length++;
    if (length >= size) return length + 1;
    for (DWORD i = 0; i <= length; i++) out[i] = path[i];
    return length;
}

static HANDLE WINAPI answer_CreateFileW(const WCHAR *path, DWORD access, DWORD share, SECURITY_ATTRIBUTES *security,
                                        DWORD disposition, DWORD flags, HANDLE template_file) {
    if (too_long_for_windows(path)) return INVALID_HANDLE_VALUE;
    return CreateFileW(path, access, share, security, disposition, flags, template_file);
}

static DWORD WINAPI answer_GetFileAttributesW(const WCHAR *path) {
    if (too_long_for_windows(path)) return INVALID_FILE_ATTRIBUTES;
    return GetFileAttributesW(path);
}

#define GetModuleFileNameW answer_GetModuleFileNameW
#define GetFullPathNameW answer_GetFullPathNameW
#define CreateFileW answer_CreateFileW
#define GetFileAttributesW answer_GetFileAttributesW
#include "launcher.c"
