// SPDX-License-Identifier: AGPL-3.0-or-later
// Tests build many apps; keep their background work from outliving a file.
process.env.TZ = 'UTC'
