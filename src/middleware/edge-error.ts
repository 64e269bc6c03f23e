import type { ProxyError } from '../errors.ts'
import { errorResponse } from '../proxy/respond.ts'
import { clientFormatOf } from './client-format.ts'
import { requestIdOf } from './request-id.ts'

/** An error refused at the edge, in the format of the client that called the path, with this request's id. */
export const edgeError = (c: { req: { path: string } } & Parameters<typeof requestIdOf>[0], e: ProxyError): Response =>
  errorResponse({ id: requestIdOf(c), format: clientFormatOf(c.req.path) }, e)
