/**
 * The app as the OpenAPI generator and the tests see it: the demo config against an address
 * nothing listens on, every route registered, stores in memory.
 */
import { openApiInfo } from '../src/app.ts'
import { demoConfig } from '../src/config/demo.ts'
import { createInstance } from '../src/compose.ts'

export async function buildDocApp(): Promise<unknown> {
  const { app, close } = await createInstance(demoConfig('http://127.0.0.1:9'), { dataDir: ':memory:' })
  try {
    return app.getOpenAPI31Document(openApiInfo)
  } finally {
    await close()
  }
}
