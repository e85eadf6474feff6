// SPDX-License-Identifier: AGPL-3.0-or-later
/** The slice of `oidc-provider` (which ships no types) that tests/helpers/oidc-provider.ts uses. */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http'

  export type Grant = { addOIDCScope(scope: string): void; save(): Promise<string> }
  export type OidcContext = {
    provider: Provider
    result?: { consent?: { grantId?: string } }
    session?: { accountId?: string; grantIdFor(clientId: string): string | undefined }
    client?: { clientId: string }
    params?: Record<string, unknown>
  }
  export type KoaContext = { path: string; method: string; href: string; status: number; body: unknown; oidc: OidcContext }
  export type Account = { accountId: string; claims(): Promise<Record<string, unknown>> }

  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>)
    Grant: { new (init: { clientId: string; accountId: string }): Grant; find(id: string): Promise<Grant | undefined> }
    callback(): (req: IncomingMessage, res: ServerResponse) => void
    use(middleware: (ctx: KoaContext, next: () => Promise<void>) => Promise<void>): void
  }
}
