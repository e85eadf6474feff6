// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Stroke icons on a 24×24 grid, drawn for Stowage. Inline SVG paths instead of an icon font or
 * library: nothing to fetch, nothing the CSP has to allow, and each one is a few bytes.
 */
export const ICONS = {
  menu: 'M4 6h16M4 12h16M4 18h16',
  close: 'M6 6l12 12M18 6L6 18',
  sun: 'M12 8a4 4 0 1 0 0 8a4 4 0 1 0 0-8zM12 2v2.5M12 19.5V22M2 12h2.5M19.5 12H22M4.9 4.9l1.8 1.8M17.3 17.3l1.8 1.8M4.9 19.1l1.8-1.8M17.3 6.7l1.8-1.8',
  moon: 'M20 14.5A8 8 0 0 1 9.5 4a8 8 0 1 0 10.5 10.5z',
  monitor: 'M3 4h18v12H3zM8 20h8M12 16v4',
  user: 'M12 12a4 4 0 1 0 0-8a4 4 0 1 0 0 8zM4 21c1.2-3.8 4.2-6 8-6s6.8 2.2 8 6',
  users: 'M9 11a3.5 3.5 0 1 0 0-7a3.5 3.5 0 1 0 0 7zM2 20c1-3.2 3.6-5 7-5s6 1.8 7 5M16 4.3a3.5 3.5 0 0 1 0 6.4M18 14.5c2 .7 3.4 2.6 4 5.5',
  signOut: 'M10 4H5v16h5M15 8l4 4l-4 4M19 12H9',
  eye: 'M2 12s3.6-7 10-7s10 7 10 7s-3.6 7-10 7S2 12 2 12zM12 9a3 3 0 1 0 0 6a3 3 0 1 0 0-6z',
  eyeOff: 'M2 12s3.6-7 10-7c2 0 3.8.7 5.3 1.7M22 12s-3.6 7-10 7c-2 0-3.8-.7-5.3-1.7M9.9 9.9a3 3 0 0 0 4.2 4.2M3 3l18 18',
  chevronDown: 'M6 9l6 6l6-6',
  chevronLeft: 'M15 6l-6 6l6 6',
  chevronRight: 'M9 6l6 6l-6 6',
  plus: 'M12 5v14M5 12h14',
  key: 'M8 8a4 4 0 1 0 0 8a4 4 0 1 0 0-8zM12 12h9M18 12v3M21 12v2',
  lock: 'M5 11h14v10H5zM8 11V8a4 4 0 0 1 8 0v3',
  unlock: 'M5 11h14v10H5zM8 11V8a4 4 0 0 1 7.5-2',
  trash: 'M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13M10 11v5M14 11v5',
  edit: 'M4 20h4L19 9l-4-4L4 16zM13 7l4 4',
  copy: 'M9 9h11v11H9zM5 15H4V4h11v1',
  refresh: 'M20 12a8 8 0 1 1-2.3-5.7M20 4v4h-4',
  search: 'M10.5 4a6.5 6.5 0 1 0 0 13a6.5 6.5 0 1 0 0-13zM15.5 15.5L20 20',
  home: 'M3 11l9-7l9 7M6 9v11h12V9',
  check: 'M5 12l5 5l9-10',
  alert: 'M12 3l10 18H2zM12 10v5M12 18v.01',
  info: 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18zM12 11v6M12 7.5v.01',
} as const

export type IconName = keyof typeof ICONS
