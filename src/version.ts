// SPDX-License-Identifier: AGPL-3.0-or-later
import pkg from '../package.json' with { type: 'json' }

export const VERSION: string = pkg.version
