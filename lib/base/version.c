#include "orderly/version.h"

int orderly_version_number(void)
{
    return ORDERLY_VERSION_NUMBER;
}

const char *orderly_version_string(void)
{
    return ORDERLY_VERSION_STRING;
}
