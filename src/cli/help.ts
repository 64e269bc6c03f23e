/** `switchyard --help`, and `switchyard help COMMAND` / `switchyard COMMAND --help` with examples. */
import { VERSION } from '../version.ts'

export const HELP = `switchyard ${VERSION}: a fast, resilient LLM routing proxy (drop-in Claude Code Router)

Usage: switchyard <command> [options]      switchyard help <command> for examples

Commands:
  start              Run the proxy (default). No config file found: demo mode with a built-in mock upstream
  code [ARGS…]       Start the service in the background if needed, then run Claude Code through it
  codex [ARGS…]      The same for the Codex CLI (its own OpenAI provider, openai_base_url pointed here)
  gemini [ARGS…]     The same for the Gemini CLI (GOOGLE_GEMINI_BASE_URL and GEMINI_API_KEY pointed here)
  preset SUB …       CCR 2.0 presets: list, info NAME, export NAME, install DIR|NAME, delete NAME
  NAME [ARGS…]       Run Claude Code with the installed preset NAME (its routes, /preset/NAME/…)
  activate, env      Print the export lines that point Claude Code at this instance
  statusline         Read Claude Code's status-line JSON on stdin, print model, tokens and cost
  model              Pick the provider,model of a Router scenario (interactive, or: model set SCENARIO TARGET)
  validate           Check the config file and print every problem with its path (exit 2 on errors)
  status             Is an instance running on the configured port? Version, uptime, streams, tiers
  stop               Stop the running instance (SIGTERM to the PID in the data dir)
  restart            Stop the running instance, then start it again in the background
  ui                 Open the dashboard (starting the service in the background if needed)
  probe              Run active performance tests once against the configured models and print a table
  perf export FILE   Write the performance store to FILE (JSON)
  perf import FILE   Read a performance store export (--merge: add to the history, else replace it)

Options:
  --config PATH      Config file (else $SWITCHYARD_CONFIG, $CCR_CONFIG, ~/.claude-code-router/config.json)
  --host HOST        Listen address (forced to 127.0.0.1 when APIKEY is unset)
  --port N           Listen port (default: $SERVICE_PORT, else config PORT, else 3456)
  --data-dir DIR     Usage and performance store (default ~/.switchyard; ':memory:' keeps nothing)
  --max-streams N    Concurrent streams before new ones get a 529 overloaded answer
  --shutdown-timeout S  Seconds active streams get to finish on SIGTERM (default 30)
  --warmup           start: warm the request path up before listening (also SWITCHYARD_WARMUP=N); --no-warmup: never
  --keep-service     code, codex, gemini: leave a service it started running when the last session exits
  --verbose          Log at debug level whatever the config's LOG and LOG_LEVEL say (CCR 2.0's flag)
  --models LIST      probe: comma-separated provider,model entries (separate them with ';')
  --type T           probe: latency | throughput | concurrent | health
  -h, --help         This help
  -v, --version      Print the version`

const COMMAND_HELP: Readonly<Record<string, string>> = {
  start: `switchyard start [--config PATH] [--port N] [--host HOST] [--data-dir DIR] [--warmup]

Runs the proxy in the foreground until SIGTERM/SIGINT (drains streams) or SIGHUP (reloads the
config). Exits 1 when the port is taken, naming the Switchyard that holds it.

With --warmup (or SWITCHYARD_WARMUP=N), before it listens it sends 512 (or N) synthetic
requests through a throwaway copy of the proxy wired to an in-process mock (no network, nothing
recorded), so a first burst of streams runs compiled code (Bun). It costs ~1 s before listening
and ~20 MB of idle memory, so it is off by default; --no-warmup overrides the variable.

Examples:
  switchyard start
  switchyard start --config ./config.json --port 3999
  switchyard start --data-dir :memory:          # keep no usage or performance history
  switchyard start --warmup                     # for a fresh proxy that takes a burst at once`,
  code: `switchyard [OPTIONS] code [CLAUDE ARGS…]

Starts the service in the background when it is not running (waits until /health answers),
then runs Claude Code (CLAUDE_PATH, else \`claude\` on PATH) pointed at it. Every argument after
\`code\` goes to Claude Code unchanged. Concurrent sessions are counted; when the last one exits,
a service that \`code\` started is stopped (--keep-service, or SWITCHYARD_KEEP_SERVICE=1, keeps it).
NON_INTERACTIVE_MODE: true in the config runs Claude Code for CI (stdin closed, CI=true, TERM=dumb).

Examples:
  switchyard code
  switchyard code -p "explain this repository"
  switchyard --config ./ci.json --keep-service code --model sonnet`,
  codex: `switchyard [OPTIONS] codex [CODEX ARGS…]

As \`code\`, for the Codex CLI (CODEX_PATH, else \`codex\` on PATH): it runs with its own OpenAI
provider pointed here (\`-c openai_base_url="http://HOST:PORT/v1"\`, no config file changed) and
the key as OPENAI_API_KEY, so it speaks the Responses API's WebSocket mode and compacts remotely.
Sessions of \`code\`, \`codex\` and \`gemini\` are counted together.

Examples:
  switchyard codex
  switchyard codex exec "explain this repository"`,
  preset: `switchyard [OPTIONS] preset SUBCOMMAND …

CCR 2.0's presets, in its folder (~/.claude-code-router/presets/) and format (NAME/manifest.json:
its own Providers and Router, and the inputs an install asks for). The service serves each at
/preset/NAME/v1/messages and /preset/NAME/v1/chat/completions; a provider the config has (same
name, URL and key) is shared, any other is the preset's own, named NAME/PROVIDER. A change
reloads a running instance.

  list                         every preset, what the service serves for it, or why it skips it
  info NAME                    its metadata, targets, own providers (no keys) and inputs
  export NAME [--description T] [--author A] [--tags a,b] [--output DIR] [--include-sensitive]
                               the config's Providers and Router as a preset; every secret is
                               written as a \${VAR} reference unless --include-sensitive
  install DIR|NAME [--set ID=VALUE …]
                               copy a preset folder in and answer its inputs (asked on a
                               terminal, else --set); an installed NAME is asked again
  delete NAME (rm, remove)     remove it

Examples:
  switchyard preset export team --description "our routing"
  switchyard preset install ./team --set apiKey=sk-…
  switchyard team -p "explain this repository"     # Claude Code through /preset/team

switchyard NAME [ARGS…] applies the preset's claudeCodeSettings (env into Claude Code's
environment, the rest as --settings); with noServer: true it runs Claude Code at the preset's
first provider itself and starts no service.`,
  gemini: `switchyard [OPTIONS] gemini [GEMINI ARGS…]

As \`code\`, for the Gemini CLI (GEMINI_PATH, else \`gemini\` on PATH): it runs with
GOOGLE_GEMINI_BASE_URL pointed here, the key as GEMINI_API_KEY and, when neither -m,
GEMINI_MODEL nor its settings name a model, GEMINI_MODEL=gemini-2.5-pro (a label the Router
maps; without one the CLI asks a classifier model before every turn). No file is changed. The
CLI must use its "Gemini API key" auth, which only its settings choose: when they choose
another (or none), it says which, and where to change it.

Examples:
  switchyard gemini
  switchyard gemini --skip-trust -p "explain this repository"
  switchyard gemini -m deepseek,deepseek-chat      # a provider,model of the config`,
  activate: `switchyard activate   (also: switchyard env)

Prints the export lines that point Claude Code (or any Anthropic SDK) at this instance:
ANTHROPIC_BASE_URL, ANTHROPIC_AUTH_TOKEN, ANTHROPIC_API_KEY='', API_TIMEOUT_MS, NO_PROXY, … .
An APIKEY written as $VAR stays a reference, resolved by your shell.

Examples:
  eval "$(switchyard activate)" && claude
  switchyard activate --port 3999 >> ~/.bashrc`,
  statusline: `switchyard statusline

Claude Code's statusLine command: reads its status JSON on stdin and prints one line with the
model that actually served the last turn (from the proxy's x-switchyard-route), tokens and cost.
Uses the config's StatusLine modules ({{model}}, {{inputTokens}}, {{outputTokens}}, {{workDirName}},
{{gitBranch}}, {{cost}}) when present.

Example (~/.claude/settings.json):
  { "statusLine": { "type": "command", "command": "switchyard statusline" } }`,
  model: `switchyard model                                   interactive picker (arrow keys on a terminal,
                                                   a numbered menu when piped)
switchyard model set SCENARIO PROVIDER,MODEL       non-interactive
switchyard model show                              the Router as it is

Sets a Router scenario (default, background, think, longContext, webSearch, image) to a
configured provider,model, writes the config file (comments, $VAR references and unknown keys
kept; the previous file is saved as config.json.<time>.bak) and reloads a running instance.

Examples:
  switchyard model set think deepseek,deepseek-reasoner
  switchyard model`,
  validate: `switchyard validate [--config PATH]

Checks the config file and prints every problem with its path; exit 2 on errors. Then lists
CCR's project and session Router files (~/.claude-code-router/<project>/*.json) with the default
each sets, or what is wrong with one (its sessions then use the config's Router).

Example:
  switchyard validate --config ~/.claude-code-router/config.json`,
  status: `switchyard status [--data-dir DIR]

Whether an instance runs (PID file + /health), its version, uptime, streams and per-target
latencies; exit 1 when none runs (and names a Switchyard holding the configured port, if any).

Example:
  switchyard status`,
  stop: `switchyard stop [--data-dir DIR] [--shutdown-timeout S]

Sends SIGTERM to the instance in the PID file and waits until it has drained and exited.

Example:
  switchyard stop`,
  restart: `switchyard restart [--config PATH] [--port N] [--data-dir DIR]

Stops the running instance (if any) and starts it again in the background, waiting until it
answers; its output goes to DATA_DIR/switchyard.log.

Example:
  switchyard restart`,
  ui: `switchyard ui [--config PATH] [--port N] [--data-dir DIR]

Starts the service in the background when it is not answering (as \`code\` does), prints the
dashboard's URL (http://HOST:PORT/ui/) and opens it in a browser where the machine can show one
(xdg-open with a display, open on macOS, start on Windows; SWITCHYARD_NO_BROWSER=1 never opens
one). With APIKEY set, the page asks for the key once per browser tab.

Example:
  switchyard ui`,
  probe: `switchyard probe [--models LIST] [--type T]

Runs active performance tests once against the configured models and prints a table.

Examples:
  switchyard probe
  switchyard probe --models "deepseek,deepseek-chat;openrouter,x-ai/grok-4" --type latency`,
  perf: `switchyard perf export FILE | switchyard perf import FILE [--merge]

Writes the performance store to FILE as JSON, or reads such an export: it replaces the history,
or with --merge adds its runs to it.

Examples:
  switchyard perf export perf.json
  switchyard perf import perf.json --merge`,
}
/** Help for `command`, or the general help. */
export function helpFor(command: string | undefined): string {
  const name = command === 'env' ? 'activate' : command
  return (name && Object.hasOwn(COMMAND_HELP, name) ? COMMAND_HELP[name] : undefined) ?? HELP
}
