// SPDX-License-Identifier: AGPL-3.0-or-later
declare module '*.sql' {
  const text: string
  export default text
}
