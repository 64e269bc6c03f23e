/**
 * Generates the OpenAPI document from the routes (with a fixed example config, so the output
 * does not depend on the machine) and writes it to openapi/openapi.json, or checks that the
 * committed file is current (`check`, run by the tests).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { buildDocApp } from '../test/doc-app.ts'

const FILE = 'openapi/openapi.json'
const doc = `${JSON.stringify(await buildDocApp(), null, 2)}\n`
const mode = process.argv[2] ?? 'check'
if (mode === 'write') {
  writeFileSync(FILE, doc)
  console.log(`wrote ${FILE} (${doc.length} bytes)`)
} else {
  let committed = ''
  try {
    committed = readFileSync(FILE, 'utf8')
  } catch { /* missing counts as stale */ }
  if (committed !== doc) {
    console.error(`${FILE} is stale: run \`npm run openapi\` and commit the result`)
    process.exitCode = 1
  } else {
    console.log(`${FILE} matches the routes`)
  }
}
