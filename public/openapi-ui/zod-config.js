// SPDX-License-Identifier: AGPL-3.0-or-later
// The explorer bundles zod, which probes `Function('')` to decide whether it may
// compile validators; our CSP forbids eval, so tell it up front not to try.
globalThis.__zod_globalConfig = { jitless: true }
