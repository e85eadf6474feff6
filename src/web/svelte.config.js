// SPDX-License-Identifier: AGPL-3.0-or-later
// Read by both vite-plugin-svelte and svelte-check, so the two agree that every component is in runes mode.
export default {
  compilerOptions: { runes: true },
}
