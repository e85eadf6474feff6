// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Shows or closes a native <dialog> as a modal so it matches `open`; returns true when this call
 * opened it (the moment to move focus in). A modal <dialog> gives the focus trap, Escape, the inert
 * page behind and focus returned on close for free.
 */
export function syncModal(dialog: HTMLDialogElement, open: boolean): boolean {
  if (open && !dialog.open) {
    dialog.showModal()
    return true
  }
  if (!open && dialog.open) dialog.close()
  return false
}
