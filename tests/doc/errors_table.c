/*
 * Prints one markdown row per known error code, in the form doc/errors.md
 * uses: | `NAME` | value | class |. check-errors.sh looks each row up in the
 * document, so a new or reclassified code cannot go undocumented.
 */
#include <stdio.h>
#include <string.h>

#include <orderly.h>

int main(void)
{
    int code;

    for (code = 0; code >= -99; code--) {
        const char *name = orderly_error_name(code);

        if (strcmp(name, "ORDERLY_UNKNOWN") == 0)
            continue;
        printf("| `%s` | %d | %s |\n", name, code,
               code == ORDERLY_OK ? "-"
               : orderly_error_is_transient(code) ? "transient" : "permanent");
    }
    return 0;
}
