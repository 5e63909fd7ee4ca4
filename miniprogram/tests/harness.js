// Pages of the mini-program rendered by miniprogram-simulate (j-component on jsdom) over the `wx`
// stand-in; assertions read the rendered WXML tree (toJSON), as DevTools' WXML panel shows it.
const path = require('path')
const assert = require('assert')
const { JSDOM } = require('jsdom')

const ROOT = path.resolve(__dirname, '..')
const dom = new JSDOM('<!doctype html><html><body></body></html>', { pretendToBeVisual: true })
for (const key of ['window', 'document', 'Node', 'Element', 'HTMLElement', 'Event', 'CustomEvent', 'navigator',
  'MutationObserver', 'getComputedStyle', 'requestAnimationFrame']) {
  global[key] = dom.window[key]
}
global.getCurrentPages = () => []

let simulate = null

// One phone: its own storage and its own WeChat user. Modules are loaded fresh per phone, so the
// api module's caches (config, sign-in) belong to this phone only.
let simulated = {}

function usePhone(wx) {
  for (const key of Object.keys(require.cache)) {
    if (key.startsWith(ROOT + path.sep) && !key.includes(path.sep + 'tests' + path.sep)) delete require.cache[key]
  }
  if (!simulate) {
    global.wx = {}
    simulate = require('miniprogram-simulate')
    simulated = global.wx  // the simulator's own API (nextTick, system info…), under ours
  }
  global.wx = Object.assign({}, simulated, wx)
}

async function openPage(route, query = {}) {
  const id = simulate.load(path.join(ROOT, route), 'page', { compiler: 'simulate', rootPath: ROOT })
  const page = simulate.render(id)
  page.attach(document.createElement('parent-wrapper'))
  if (page.instance.onLoad) await page.instance.onLoad(query)
  return page
}

// --- the rendered tree ----------------------------------------------------------------------------
function tree(page) {
  return page.toJSON()
}

function attr(node, name) {
  const found = (node.attrs || []).find((a) => a.name === name)
  return found ? found.value : undefined
}

function classes(node) {
  return String(attr(node, 'class') || '').split(/\s+/).filter(Boolean)
}

function walk(node, visit) {
  if (!node || typeof node !== 'object') return
  visit(node)
  ;(node.children || []).forEach((child) => walk(child, visit))
}

// Nodes by ".class", "#id", "tag" (wx-view…) or "[attr=value]".
function findAll(page, selector) {
  const found = []
  walk(tree(page), (node) => {
    if (selector.startsWith('.') && classes(node).includes(selector.slice(1))) found.push(node)
    else if (selector.startsWith('#') && attr(node, 'id') === selector.slice(1)) found.push(node)
    else if (selector.startsWith('[')) {
      const [name, value] = selector.slice(1, -1).split('=')
      if (String(attr(node, name)) === value) found.push(node)
    } else if (node.tagName === selector) found.push(node)
  })
  return found
}

function find(page, selector) {
  const all = findAll(page, selector)
  return all[0]
}

function text(node) {
  if (node === undefined || node === null) return ''
  if (typeof node !== 'object') return String(node)
  return (node.children || []).map(text).join('')
}

function pageText(page) {
  return text(tree(page))
}

// --- acting on it ---------------------------------------------------------------------------------
function tap(page, selector, index = 0) {
  const nodes = page.querySelectorAll(selector)
  assert.ok(nodes.length > index, `nothing to tap at ${selector}: ${pageText(page)}`)
  nodes[index].dispatchEvent('tap')
}

function fire(page, selector, event, detail) {
  const node = page.querySelector(selector)
  assert.ok(node, `no ${selector} for ${event}`)
  node.dispatchEvent(event, { detail })
}

async function until(check, what, timeout = 30000) {
  const start = Date.now()
  for (;;) {
    let ok = false
    try { ok = check() } catch (e) { ok = false }
    if (ok) return ok
    if (Date.now() - start > timeout) throw new Error('timed out waiting for ' + what)
    await new Promise((r) => setTimeout(r, 25))
  }
}

module.exports = { ROOT, usePhone, openPage, tree, find, findAll, text, pageText, attr, classes, tap, fire, until }
