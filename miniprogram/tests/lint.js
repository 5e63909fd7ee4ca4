// A lint of the mini-program's WXML, run by `make test` (tests/miniprogram/test_lint.py):
//   node miniprogram/tests/lint.js [root]
// Every page in app.json and every component has its four files; tags are known (WeChat's own or
// declared in usingComponents) and closed; wx:for has wx:key; {{ }} are balanced; every bind/catch
// handler is a method of the page's JS; an <image> says what it shows (aria-label); a <button> has
// words; and what a resident reads is Chinese: no Latin words in text, placeholder, aria-label or title.
const fs = require('fs')
const path = require('path')

const root = path.resolve(process.argv[2] || path.join(__dirname, '..'))
const TAGS = new Set(['cover-image', 'cover-view', 'grid-view', 'list-view', 'match-media', 'movable-area', 'movable-view',
  'page-container', 'root-portal', 'scroll-view', 'share-element', 'sticky-header', 'sticky-section', 'swiper',
  'swiper-item', 'view', 'icon', 'progress', 'rich-text', 'text', 'button', 'checkbox', 'checkbox-group', 'editor',
  'form', 'input', 'keyboard-accessory', 'label', 'picker', 'picker-view', 'picker-view-column', 'radio',
  'radio-group', 'slider', 'switch', 'textarea', 'functional-page-navigator', 'navigator', 'audio', 'camera',
  'image', 'video', 'map', 'canvas', 'web-view', 'official-account', 'open-data', 'navigation-bar', 'page-meta',
  'block', 'slot', 'template', 'import', 'include', 'wxs'])
const VOID = new Set(['import', 'include'])
const LATIN_WORD = /[A-Za-z]{2,}/
const SHOWN_ATTRS = ['placeholder', 'aria-label', 'title']

const problems = []
const problem = (file, message) => problems.push(`${path.relative(root, file)}: ${message}`)

function readJson(file) {
  try { return JSON.parse(fs.readFileSync(file, 'utf8')) } catch (e) { problem(file, 'not valid JSON: ' + e.message); return {} }
}

// The options the page or component passes to Component(): its methods are the handlers.
function methodsOf(jsFile) {
  let options = null
  const saved = { Component: global.Component, Page: global.Page, wx: global.wx }
  global.Component = (o) => { options = o }
  global.Page = (o) => { options = { methods: o } }
  global.wx = global.wx || {}
  try {
    delete require.cache[require.resolve(jsFile)]
    require(jsFile)
  } catch (e) {
    problem(jsFile, 'does not load: ' + e.message)
  } finally {
    Object.assign(global, saved)
  }
  if (!options) { problem(jsFile, 'calls neither Component() nor Page()'); return new Set() }
  return new Set(Object.keys(options.methods || {}))
}

// Strip {{ }} so only the words a person reads remain.
const literal = (s) => s.replace(/\{\{[\s\S]*?\}\}/g, ' ')

function lintWxml(base) {
  const wxml = base + '.wxml'
  const source = fs.readFileSync(wxml, 'utf8')
  const json = readJson(base + '.json')
  const custom = Object.keys(json.usingComponents || {})
  const methods = methodsOf(base + '.js')
  Object.entries(json.usingComponents || {}).forEach(([, ref]) => {
    const target = ref.startsWith('/') ? path.join(root, ref) : path.join(path.dirname(base), ref)
    if (!fs.existsSync(target + '.json')) problem(base + '.json', `usingComponents names ${ref}, which is not there`)
  })
  const opens = (source.match(/\{\{/g) || []).length
  const closes = (source.match(/\}\}/g) || []).length
  if (opens !== closes) problem(wxml, `{{ and }} do not pair (${opens} against ${closes})`)

  const stack = []
  const token = /<!--[\s\S]*?-->|<\/\s*([\w-]+)\s*>|<([\w-]+)((?:\s+[\w:.-]+(?:\s*=\s*(?:"[^"]*"|'[^']*'))?)*)\s*(\/?)>|([^<]+)/g
  let m
  let line = 1
  let last = 0
  while ((m = token.exec(source))) {
    line += (source.slice(last, m.index).match(/\n/g) || []).length
    last = m.index
    const [whole, close, open, attrText, selfClose, text] = m
    const at = `line ${line}`
    if (whole.startsWith('<!--')) continue
    if (close) {
      const top = stack.pop()
      if (!top) problem(wxml, `${at}: </${close}> closes nothing`)
      else if (top.tag !== close) problem(wxml, `${at}: </${close}> closes <${top.tag}> of line ${top.line}`)
      continue
    }
    if (open) {
      if (!TAGS.has(open) && !custom.includes(open)) problem(wxml, `${at}: <${open}> is neither WeChat's nor in usingComponents`)
      const attrs = {}
      const attr = /([\w:.-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'))?/g
      let a
      while ((a = attr.exec(attrText || ''))) attrs[a[1]] = a[2] !== undefined ? a[2] : (a[3] !== undefined ? a[3] : '')
      if ('wx:for' in attrs && !('wx:key' in attrs)) problem(wxml, `${at}: wx:for without wx:key`)
      Object.entries(attrs).forEach(([name, value]) => {
        const handler = /^(bind|catch|capture-bind|capture-catch|mut-bind):?[\w]+$/.test(name)
        if (handler && !/\{\{/.test(value) && !methods.has(value)) problem(wxml, `${at}: ${name}="${value}" names no method of ${path.basename(base)}.js`)
        if (SHOWN_ATTRS.includes(name) && LATIN_WORD.test(literal(value))) problem(wxml, `${at}: ${name}="${value}" is not Chinese`)
      })
      if (open === 'image' && !attrs['aria-label']) problem(wxml, `${at}: <image> without aria-label (what it shows, for screen readers)`)
      const node = { tag: open, line, attrs, words: '' }
      if (!selfClose && !VOID.has(open)) stack.push(node)
      else if (open === 'button' && !attrs['aria-label']) problem(wxml, `${at}: <button/> has no words`)
      continue
    }
    if (text !== undefined) {
      const words = literal(text).trim()
      if (words && LATIN_WORD.test(words)) problem(wxml, `line ${line}: text "${words.slice(0, 40)}" is not Chinese`)
      stack.forEach((n) => { n.words += text.trim() })
    }
  }
  stack.forEach((n) => problem(wxml, `<${n.tag}> of line ${n.line} is never closed`))
  // Buttons: words between the tags, or an aria-label.
  const button = /<button\b([^>]*)>([\s\S]*?)<\/button>/g
  let b
  while ((b = button.exec(source))) {
    if (!b[2].trim() && !/aria-label=/.test(b[1])) problem(wxml, 'a <button> has no words and no aria-label')
  }
}

function lintUnit(base) {
  for (const ext of ['.json', '.wxml', '.js']) {
    if (!fs.existsSync(base + ext)) { problem(base + ext, 'missing'); return }
  }
  lintWxml(base)
}

const app = readJson(path.join(root, 'app.json'))
const pages = app.pages || []
if (!pages.length) problem(path.join(root, 'app.json'), 'lists no pages')
pages.forEach((p) => lintUnit(path.join(root, p)))
;((app.tabBar || {}).list || []).forEach((t) => {
  if (!pages.includes(t.pagePath)) problem(path.join(root, 'app.json'), `tabBar names ${t.pagePath}, not a page`)
  if (LATIN_WORD.test(t.text)) problem(path.join(root, 'app.json'), `tabBar text "${t.text}" is not Chinese`)
})
const components = path.join(root, 'components')
if (fs.existsSync(components)) {
  fs.readdirSync(components).forEach((dir) => lintUnit(path.join(components, dir, 'index')))
}
const project = readJson(path.join(root, 'project.config.json'))
if (!project.appid) problem(path.join(root, 'project.config.json'), 'no appid (the placeholder is touristappid)')

if (problems.length) {
  console.error(problems.join('\n'))
  console.error(`${problems.length} problem(s)`)
  process.exit(1)
}
console.log(`WXML lint: ${pages.length} pages and their components clean`)
