// SPDX-License-Identifier: AGPL-3.0-or-later
// Kept in a file because the explorer page's CSP allows no inline scripts.
window.Scalar.createApiReference('#api-reference', {
  url: '/openapi/json',
  withDefaultFonts: false,
  hideDownloadButton: false,
  telemetry: false,
  agent: { disabled: true },
  mcp: { disabled: true },
})
