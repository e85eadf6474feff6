// SPDX-License-Identifier: AGPL-3.0-or-later
import { fileURLToPath } from 'node:url'
import { svelte } from '@sveltejs/vite-plugin-svelte'
import { defineConfig } from 'vite'

const repo = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url))

// The dashboard listener (Bun) serves the API; in dev Vite serves the SPA and forwards everything else to it.
const server = 'http://127.0.0.1:8080'

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  publicDir: repo('public'),
  plugins: [svelte()],
  build: {
    outDir: repo('dist/web'),
    emptyOutDir: true,
    assetsDir: 'assets',
  },
  server: {
    proxy: {
      '/api': server,
      '/auth': server,
      '/openapi': server,
      '/healthz': server,
      // Only the share endpoints: the recipient page /s/<code> itself is an SPA route Vite must serve.
      '^/s/[^/]+/.+': server,
    },
  },
})
