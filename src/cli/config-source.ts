// SPDX-License-Identifier: AGPL-3.0-or-later
import { existsSync } from 'node:fs'
import { buildConfig, loadConfigFile, type AppConfig } from '../config/load.ts'

/** --config, else $STOWAGE_CONFIG, else ./config.yaml when present, else built-in defaults plus env. */
export async function resolveConfig(flag: string | undefined, env: Record<string, string | undefined>): Promise<AppConfig> {
  const path = flag ?? env.STOWAGE_CONFIG
  if (path) return loadConfigFile(path, env)
  if (existsSync('config.yaml')) return loadConfigFile('config.yaml', env)
  return buildConfig({}, env, 'defaults')
}
