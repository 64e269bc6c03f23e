/** Kept equal to package.json's version by a test (importing JSON differs across runtimes and the binary). */
export const VERSION = '0.1.0'
