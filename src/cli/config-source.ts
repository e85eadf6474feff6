// SPDX-License-Identifier: AGPL-3.0-or-later
import { existsSync } from 'node:fs'
import { buildConfig, loadConfigFile, type AppConfig, type BuildOptions } from '../config/load.ts'

/** --config, else $STOWAGE_CONFIG, else ./config.yaml when present, else built-in defaults plus env. */
export async function resolveConfig(flag: string | undefined, env: Record<string, string | undefined>, opts: BuildOptions = {}): Promise<AppConfig> {
  const path = flag ?? env.STOWAGE_CONFIG
  if (path) return loadConfigFile(path, env, opts)
  if (existsSync('config.yaml')) return loadConfigFile('config.yaml', env, opts)
  return buildConfig({}, env, 'defaults', opts)
}
