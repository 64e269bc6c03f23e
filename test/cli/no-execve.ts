/**
 * Preload for a child CLI (through BUN_OPTIONS): takes `process.execve` away, as on a platform
 * without it (Windows), so a test reaches the relaunch-as-a-child path on Linux too.
 */
delete (process as { execve?: unknown }).execve
