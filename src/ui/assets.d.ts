// Page assets are imported as text (`with { type: 'text' }`, Bun and Deno), so `bun build --compile` embeds them.
declare module '*.css' {
  const text: string
  export default text
}
declare module '*/app.js' {
  const text: string
  export default text
}
declare module '*.min.js' {
  const text: string
  export default text
}
declare module '*/standalone.js' {
  const text: string
  export default text
}
