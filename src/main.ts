// SPDX-License-Identifier: AGPL-3.0-or-later
/** The `stowage` command line. */
import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs, readSecret, UsageError } from './cli/args.ts'
import { resolveConfig } from './cli/config-source.ts'
import { buildConfig, ConfigError, parseListen, type AppConfig } from './config/load.ts'
import { randomPassword } from './lib/crypto.ts'
import { createLogger } from './lib/log.ts'
import { SchemaTooNewError } from './db/migrate.ts'
import { StoreUnavailableError } from './db/open.ts'
import { quickstartLayout } from './cli/data-paths.ts'
import { healthcheckCommand } from './cli/healthcheck.ts'
import { VERSION } from './version.ts'

/** The server modules load only for the commands that need them, so `--help`, `version` and usage errors answer at once. */
async function server() {
  const [{ createApp }, { serve, stopOnSignals }, { upsertAdmin }] = await Promise.all([
    import('./app.ts'),
    import('./server.ts'),
    import('./cli/bootstrap-admin.ts'),
  ])
  return { createApp, serve, stopOnSignals, upsertAdmin }
}

const HELP: Record<string, string> = {
  main: `stowage ${VERSION} — a web dashboard and S3 proxy for S3-compatible storage

Usage: stowage <command> [options]

Commands:
  quickstart      Run with everything under one data directory (no config needed)
  serve           Run with a config file
  create-admin    Create an admin account, or reset one you are locked out of
  hash-password   Print the argon2id hash of a password read from stdin
  healthcheck     Exit 0 when the running server is ready (for container health checks)
  backup          Copy the database and the master key into one archive, while running
  restore         Put a backup's database and key back, with the server stopped
  migrate-store   Copy a SQLite database's state into the config's PostgreSQL database
  version         Print the version

Run "stowage <command> --help" for a command's options.`,
  serve: `Usage: stowage serve [--config PATH]

Runs the dashboard (and the S3 proxy when s3_proxy.enabled is true).
The config comes from --config, else $STOWAGE_CONFIG, else ./config.yaml, else defaults;
STOWAGE_* environment variables override file values (see docs/reference/config.md).`,
  quickstart: `Usage: stowage quickstart [--data-dir DIR] [--listen ADDR] [--s3-listen ADDR | --no-s3]

Creates DIR (default ./data) with the database, the master key and a local-disk
storage backend named "local" (DIR/objects), makes an admin account with a random
password printed once, and serves the dashboard on ADDR (default :8080) and the
S3 endpoint on --s3-listen (default :8090; keys are made on the dashboard's
S3 credentials page). --no-s3 serves the dashboard only.`,
  'create-admin': `Usage: stowage create-admin --username NAME [--email EMAIL] [--config PATH] [--password-stdin]

Creates a local admin. If NAME exists it becomes an enabled, unlocked admin with the
new password and its sessions end. The password is read from stdin with
--password-stdin; otherwise a random one is generated, printed once, and must be
changed at first sign-in.`,
  'hash-password': `Usage: stowage hash-password

Reads a password from stdin (never from arguments, which other users can see in the
process list) and prints its argon2id hash, for auth.static.password_hash_env.`,
  healthcheck: `Usage: stowage healthcheck [--url URL] [--timeout DURATION]

Exits 0 when GET URL answers 200 within DURATION (default 500ms), else 1
with the reason on stderr. URL defaults to /readyz on 127.0.0.1 at the port of
$STOWAGE_LISTEN, else 8080; a URL without a path means its /readyz.`,
  backup: `Usage: stowage backup --to FILE [--data-dir DIR | --config PATH]

Writes a consistent snapshot of the database (taken while the server runs) and
the master key file into FILE, a tar archive (gzip-compressed when FILE ends in
.gz or .tgz) created with mode 0600 because it holds the key. FILE must not
exist. The database and key are found as quickstart (--data-dir) or serve
(--config, $STOWAGE_CONFIG, ./config.yaml, defaults) would find them.
Not in the archive: object bytes (fs backends keep theirs in their directories),
the config file and the environment.`,
  restore: `Usage: stowage restore --from FILE (--data-dir DIR | --config PATH) [--force]

Checks FILE whole (checksums, database integrity, the key against the sealed
secrets), then puts its database and key where quickstart (--data-dir) or serve
(--config) would look for them. Refuses while a server has the database open, and
refuses a database at a newer schema version than the backup. --force replaces an
existing database and key, keeping them as <name>.before-restore-<time>.`,
  'migrate-store': `Usage: stowage migrate-store --from sqlite:PATH --to postgres [--config PATH] [--dry-run]

Copies every table of the SQLite database PATH into the PostgreSQL database named
by the config's db.postgres.url_env (the URL is read from that environment
variable), so a single install can grow into several replicas. The source is read
as one consistent snapshot, so it may stay in use; the target must be empty and is
written in one transaction, checked table by table against the source's row counts
before it commits. --dry-run does the same and rolls the copy back.`,
  version: 'Usage: stowage version',
}

/** The host a browser or client on this machine uses for a listen address. */
function hostOf(listen: string): string {
  const host = parseListen(listen)!.host
  return host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host
}

/** What S3 clients are told to use: the configured public name, else this machine and the bound port. */
function s3Endpoint(config: AppConfig, host: string, port: number): string {
  const p = config.s3_proxy
  return p.public_hostname ? `${p.public_scheme}://${p.public_hostname}` : `http://${host}:${port}`
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(HELP.main)
    return cmd ? 0 : 2
  }
  if (!(cmd in HELP) || cmd === 'main') throw new UsageError(`unknown command "${cmd}"`)
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(HELP[cmd])
    return 0
  }
  const env = process.env as Record<string, string | undefined>
  switch (cmd) {
    case 'version': {
      parseArgs(rest, {})
      console.log(`stowage ${VERSION} (bun ${Bun.version})`)
      return 0
    }
    case 'hash-password': {
      parseArgs(rest, {})
      const pw = await readSecret('Password: ')
      if (!pw) throw new UsageError('empty password')
      console.log(await Bun.password.hash(pw, { algorithm: 'argon2id' }))
      return 0
    }
    case 'serve': {
      const { flags } = parseArgs(rest, { config: 'string' })
      const config = await resolveConfig(flags.config as string | undefined, env)
      const { createApp, serve, stopOnSignals } = await server()
      const leaseIntervalMs = Number(env.STOWAGE_TEST_LEASE_INTERVAL_MS) || undefined
      const app = await createApp(config, { leaseIntervalMs })
      const running = await serve(app)
      stopOnSignals(running, app.logger)
      return -1
    }
    case 'quickstart': {
      const { flags } = parseArgs(rest, { 'data-dir': 'string', listen: 'string', 's3-listen': 'string', 'no-s3': 'boolean' })
      const dir = resolve((flags['data-dir'] as string | undefined) ?? 'data')
      const listen = (flags.listen as string | undefined) ?? env.STOWAGE_LISTEN ?? ':8080'
      if (!parseListen(listen)) throw new UsageError(`--listen must be host:port or :port, got "${listen}"`)
      if (flags['no-s3'] && flags['s3-listen'] !== undefined) throw new UsageError('--s3-listen and --no-s3 exclude each other')
      const s3Listen = (flags['s3-listen'] as string | undefined) ?? ':8090'
      if (!parseListen(s3Listen)) throw new UsageError(`--s3-listen must be host:port or :port, got "${s3Listen}"`)
      const layout = quickstartLayout(dir)
      mkdirSync(layout.objects, { recursive: true, mode: 0o700 })
      const config = buildConfig(
        {
          server: { listen, secret_key_file: layout.keyFile },
          db: { sqlite: { path: layout.database } },
          backends: [{ id: 'local', name: 'Local disk', type: 'fs', root: layout.objects }],
          s3_proxy: { enabled: !flags['no-s3'], listen: s3Listen },
        },
        env,
        `quickstart --data-dir ${dir}`,
      )
      const { createApp, serve, stopOnSignals, upsertAdmin } = await server()
      const app = await createApp(config)
      // The admin exists before the first request can arrive; the banner waits
      // for the listener so it shows the real port (with --listen :0 the OS picks it).
      const password = (await app.users.count()) === 0 ? randomPassword() : undefined
      if (password) await upsertAdmin(app, { username: 'admin', password, mustChangePw: true })
      const running = await serve(app)
      stopOnSignals(running, app.logger)
      const url = `http://${hostOf(listen)}:${running.dashboard.port}`
      const s3 = running.proxy
        ? `\n  S3 endpoint: ${s3Endpoint(config, hostOf(config.s3_proxy.listen), running.proxy.port)}  (keys: S3 credentials in the dashboard)\n`
        : ''
      if (password) {
        console.error(
          `\n  Stowage is running at ${url}\n${s3}\n  Sign in as:  admin\n  Password:    ${password}\n\n  This password is shown once; you will be asked to change it.\n  Data lives in ${dir}\n`,
        )
      } else {
        console.error(
          `\n  Stowage is running at ${url} (data in ${dir}).\n${s3}  Forgot the admin password? Run: STOWAGE_SQLITE_PATH=${layout.database} stowage create-admin --username admin\n`,
        )
      }
      return -1
    }
    case 'healthcheck':
      return healthcheckCommand(rest, env)
    case 'backup':
      return (await import('./cli/backup-commands.ts')).backupCommand(rest, env)
    case 'restore':
      return (await import('./cli/backup-commands.ts')).restoreCommand(rest, env)
    case 'migrate-store': {
      const { flags } = parseArgs(rest, { from: 'string', to: 'string', config: 'string', 'dry-run': 'boolean' })
      if (flags.to !== 'postgres') throw new UsageError('--to postgres is required')
      if (typeof flags.from !== 'string') throw new UsageError('--from sqlite:PATH is required')
      const config = await resolveConfig(flags.config as string | undefined, env)
      const url = env[config.db.postgres.url_env]
      if (!url) throw new UsageError(`the target's URL is read from $${config.db.postgres.url_env} (db.postgres.url_env), which is not set`)
      const { migrateStore } = await import('./cli/migrate-store.ts')
      const dryRun = flags['dry-run'] === true
      const done = await migrateStore({ from: flags.from, url, config, dryRun, log: (line) => console.error(line) })
      const rows = done.tables.reduce((n, t) => n + t.rows, 0)
      console.error(`${dryRun ? 'dry run: would copy' : 'copied'} ${rows} rows in ${done.tables.length} tables; every count matches`)
      return 0
    }
    case 'create-admin': {
      const { flags } = parseArgs(rest, { username: 'string', email: 'string', config: 'string', 'password-stdin': 'boolean' })
      const username = flags.username as string | undefined
      if (!username || !/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(username))
        throw new UsageError('--username is required (letters, digits, ".", "_", "@", "-")')
      const config = await resolveConfig(flags.config as string | undefined, env)
      const { createApp, upsertAdmin } = await server()
      // Logs go to stderr here: stdout carries only the generated password, so `> file` captures just that.
      const logger = createLogger({ ...config.log, write: (line) => process.stderr.write(line + '\n') })
      const app = await createApp(config, { defaultMetrics: false, logger })
      try {
        const generated = !flags['password-stdin']
        const password = generated ? randomPassword() : await readSecret('Password: ')
        if (!generated) app.passwords.checkPolicy(password, { username })
        const what = await upsertAdmin(app, { username, email: flags.email as string | undefined, password, mustChangePw: generated })
        console.error(`admin "${username}" ${what}`)
        if (generated) console.log(password)
      } finally {
        await app.close()
      }
      return 0
    }
  }
  return 2
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code)
  },
  (err: unknown) => {
    if (err instanceof UsageError) console.error(`stowage: ${err.message}\nRun "stowage --help" for usage.`)
    else if (err instanceof ConfigError) console.error(`stowage: ${err.message}`)
    else if (err instanceof SchemaTooNewError || err instanceof StoreUnavailableError) console.error(`stowage: ${err.message}`)
    else if ((err as { code?: string }).code === 'EADDRINUSE') console.error(`stowage: address in use: ${(err as Error).message}`)
    else if (err instanceof Error && 'status' in err && 'code' in err) console.error(`stowage: ${(err as Error).message}`)
    else console.error('stowage: fatal:', err)
    process.exit(err instanceof UsageError ? 2 : 1)
  },
)
