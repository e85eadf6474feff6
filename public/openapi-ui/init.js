// SPDX-License-Identifier: AGPL-3.0-or-later
// Kept in a file because the explorer page's CSP allows no inline scripts.
// "Try it out" runs as the signed-in user: the session cookie goes along (same origin), and a
// mutation carries the CSRF header the API asks for, read from its cookie as the dashboard does.
function csrfToken() {
  for (const part of document.cookie.split(';')) {
    const [name, ...value] = part.trim().split('=')
    if (name === 'stowage_csrf') return decodeURIComponent(value.join('='))
  }
  return ''
}

window.ui = window.SwaggerUIBundle({
  url: '/openapi/json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  // The default validator badge would send the document to validator.swagger.io.
  validatorUrl: null,
  displayRequestDuration: true,
  docExpansion: 'list',
  defaultModelsExpandDepth: 0,
  requestInterceptor: (request) => {
    const method = (request.method || 'GET').toUpperCase()
    if (method !== 'GET' && method !== 'HEAD') request.headers['X-CSRF-Token'] = csrfToken()
    request.credentials = 'same-origin'
    return request
  },
})
