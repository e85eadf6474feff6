// SPDX-License-Identifier: AGPL-3.0-or-later
import { mount } from 'svelte'
import App from './App.svelte'
import { applyTheme, readTheme } from './lib/theme.ts'
import { startRouter } from './lib/router.ts'
import './app.css'

// Before the first render, so a saved light/dark choice does not flash the system theme first.
applyTheme(readTheme())
startRouter()

const target = document.getElementById('app')
if (target) mount(App, { target })
