/* wazlabd: placeholder entry point until the daemon lands. */
#include "config.h"

#include <stdio.h>

int main(void)
{
    printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
    return 0;
}
