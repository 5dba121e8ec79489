/* The system zlib (Debian: zlib1g-dev; macOS: in the SDK), for gzip'd data sets and PNG output. */
#include <zlib.h>
