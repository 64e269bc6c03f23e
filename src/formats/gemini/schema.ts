import { z } from '@hono/zod-openapi'

/**
 * Loose Gemini API schemas: typed where we read, unknown fields pass through. A part's known
 * fields have their types (Google's API refuses `"text": 5` naming the field; loose, it was read
 * as no text at all).
 */
const Part = z.looseObject({
  text: z.string().optional(),
  thought: z.boolean().optional(),
  thoughtSignature: z.string().optional(),
  inlineData: z.looseObject({ mimeType: z.string(), data: z.string() }).optional(),
  functionCall: z.looseObject({ name: z.string() }).optional(),
  functionResponse: z.looseObject({ name: z.string() }).optional(),
})
/** `user` or `model` (and the older `function` for function responses); another role was read as `user`. */
const Content = z.looseObject({ role: z.enum(['user', 'model', 'function']).optional(), parts: z.array(Part) })

export const GeminiRequestSchema = z
  .looseObject({
    contents: z.array(Content).optional(),
    systemInstruction: z.looseObject({ parts: z.array(Part).optional() }).optional(),
    tools: z.array(z.looseObject({})).optional(),
    toolConfig: z.looseObject({}).optional(),
    generationConfig: z.looseObject({
      maxOutputTokens: z.number().int().nonnegative().optional(),
      temperature: z.number().optional(),
      candidateCount: z.number().int().optional(),
      thinkingConfig: z.looseObject({}).optional(),
    }).optional(),
    generateContentRequest: z.looseObject({}).optional(),
  })
  .openapi('GeminiGenerateContentRequest', {
    example: { contents: [{ role: 'user', parts: [{ text: 'Hello' }] }], generationConfig: { maxOutputTokens: 256 } },
  })

export const GeminiResponseSchema = z
  .looseObject({
    candidates: z.array(z.looseObject({ content: Content.optional(), finishReason: z.string().optional() })).optional(),
    usageMetadata: z.looseObject({
      promptTokenCount: z.number().optional(),
      candidatesTokenCount: z.number().optional(),
    }).optional(),
  })
  .openapi('GeminiGenerateContentResponse', {
    example: {
      candidates: [{ content: { role: 'model', parts: [{ text: 'Hello!' }] }, finishReason: 'STOP', index: 0 }],
      usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 },
    },
  })

export const GeminiErrorBodySchema = z
  .object({ error: z.object({ code: z.number().int(), message: z.string(), status: z.string() }) })
  .openapi('GeminiError', {
    example: { error: { code: 404, message: 'Provider "x" is not configured', status: 'NOT_FOUND' } },
  })

export const GeminiCountTokensSchema = z.object({ totalTokens: z.number().int() }).openapi('GeminiCountTokens', {
  example: { totalTokens: 31 },
})

export const GeminiModelSchema = z
  .object({ name: z.string(), displayName: z.string(), supportedGenerationMethods: z.array(z.string()) })
  .openapi('GeminiModel')

export const GeminiModelListSchema = z
  .object({ models: z.array(GeminiModelSchema) })
  .openapi('GeminiModelList', {
    example: {
      models: [{
        name: 'models/gemini,gemini-2.5-pro',
        displayName: 'gemini,gemini-2.5-pro',
        supportedGenerationMethods: ['generateContent', 'streamGenerateContent', 'countTokens'],
      }],
    },
  })
