// A `wx` stand-in for Node: request, uploadFile and downloadFile go to the real backend over HTTP
// (the one the pytest suite started: real Flask, real database, the WeChat stub behind it);
// wx.login gives a fresh code per call, which the stub's code2session maps to this phone's openid.
// Everything a person would do on the phone (pick photos, a place, agree to a dialog) is set by the
// test beforehand and every call is recorded in `calls`.
const fs = require('fs')
const os = require('os')
const path = require('path')

function createWx({ user }) {
  const storage = new Map()
  const calls = []
  let codes = 0
  const phone = { offline: false, media: [], location: null, modalConfirm: true, envVersion: 'develop' }
  const record = (name, args) => calls.push({ name, args })
  const finish = (opts, ok, result) => {
    setTimeout(() => {
      if (ok && opts.success) opts.success(result)
      if (!ok && opts.fail) opts.fail(result)
      if (opts.complete) opts.complete(result)
    }, 0)
  }
  const network = async (opts, send) => {
    if (phone.offline) return finish(opts, false, { errMsg: 'request:fail net::ERR_INTERNET_DISCONNECTED' })
    try {
      finish(opts, true, await send())
    } catch (err) {
      finish(opts, false, { errMsg: 'request:fail ' + err.message })
    }
  }
  const headersOf = (res) => Object.fromEntries(res.headers.entries())
  // app.json's __usePrivacyCheck__: a privacy API called before consent first goes to the app's
  // onNeedPrivacyAuthorization listener (registered by app.js, here by a journey that says so) and
  // runs once it resolves with agree; disagree fails the call. Consent is read from the app's own
  // key, which the guide's 同意 button sets.
  const needsConsent = (opts, again) => {
    if (storage.get('privacyAgreed') || !wx.__privacyListener) return false
    record('needPrivacyAuthorization', {})
    wx.__privacyListener((answer) => {
      if (answer && answer.event === 'agree') { storage.set('privacyAgreed', true); again() }
      else finish(opts, false, { errMsg: 'privacy authorization denied' })
    })
    return true
  }

  const wx = {
    __phone: phone,
    __calls: calls,
    __storage: storage,
    calls: (name) => calls.filter((c) => c.name === name).map((c) => c.args),
    getStorageSync: (key) => (storage.has(key) ? storage.get(key) : ''),
    setStorageSync: (key, value) => { storage.set(key, value) },
    removeStorageSync: (key) => { storage.delete(key) },
    getAccountInfoSync: () => ({ miniProgram: { appId: 'touristappid', envVersion: phone.envVersion } }),
    login(opts) {
      codes += 1
      const code = `${user}-${codes}`
      record('login', { code })
      finish(opts, true, { code, errMsg: 'login:ok' })
    },
    request(opts) {
      record('request', { url: opts.url, method: opts.method || 'GET', data: opts.data, header: opts.header })
      network(opts, async () => {
        const method = (opts.method || 'GET').toUpperCase()
        const init = { method, headers: Object.assign({}, opts.header || {}) }
        let url = opts.url
        if (method === 'GET' && opts.data && Object.keys(opts.data).length) {
          url += (url.includes('?') ? '&' : '?') + new URLSearchParams(opts.data).toString()
        } else if (method !== 'GET') {
          init.body = typeof opts.data === 'string' ? opts.data : JSON.stringify(opts.data || {})
        }
        const res = await fetch(url, init)
        const text = await res.text()
        let data = text
        try { data = JSON.parse(text) } catch (e) { /* not JSON: as text, like wx.request */ }
        return { statusCode: res.status, data, header: headersOf(res), errMsg: 'request:ok' }
      })
    },
    uploadFile(opts) {
      record('uploadFile', { url: opts.url, filePath: opts.filePath, name: opts.name })
      network(opts, async () => {
        const form = new FormData()
        Object.entries(opts.formData || {}).forEach(([k, v]) => form.append(k, v))
        form.append(opts.name, new Blob([fs.readFileSync(opts.filePath)]), path.basename(opts.filePath))
        const res = await fetch(opts.url, { method: 'POST', headers: opts.header || {}, body: form })
        return { statusCode: res.status, data: await res.text(), errMsg: 'uploadFile:ok' }
      })
    },
    downloadFile(opts) {
      record('downloadFile', { url: opts.url })
      network(opts, async () => {
        const res = await fetch(opts.url, { headers: opts.header || {} })
        const file = path.join(os.tmpdir(), `wx-download-${process.pid}-${calls.length}`)
        fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()))
        return { statusCode: res.status, tempFilePath: file, errMsg: 'downloadFile:ok' }
      })
    },
    chooseMedia(opts) {
      record('chooseMedia', { count: opts.count, sourceType: opts.sourceType, sizeType: opts.sizeType })
      if (needsConsent(opts, () => wx.chooseMedia(opts))) return
      const picked = phone.media.splice(0, opts.count)
      if (!picked.length) return finish(opts, false, { errMsg: 'chooseMedia:fail cancel' })
      finish(opts, true, { type: 'image', tempFiles: picked.map((p) => ({ tempFilePath: p, size: fs.statSync(p).size, fileType: 'image' })) })
    },
    chooseLocation(opts) {
      record('chooseLocation', {})
      if (needsConsent(opts, () => wx.chooseLocation(opts))) return
      if (!phone.location) return finish(opts, false, { errMsg: 'chooseLocation:fail cancel' })
      finish(opts, true, Object.assign({ errMsg: 'chooseLocation:ok' }, phone.location))
    },
    requestSubscribeMessage(opts) {
      record('requestSubscribeMessage', { tmplIds: opts.tmplIds })
      const answer = { errMsg: 'requestSubscribeMessage:ok' }
      opts.tmplIds.forEach((id) => { answer[id] = 'accept' })
      finish(opts, true, answer)
    },
    showModal(opts) {
      record('showModal', { title: opts.title, content: opts.content })
      finish(opts, true, { confirm: phone.modalConfirm, cancel: !phone.modalConfirm })
    },
    getPrivacySetting(opts) { finish(opts, true, { needAuthorization: !storage.get('privacyAgreed') }) },
    onNeedPrivacyAuthorization(fn) { record('onNeedPrivacyAuthorization', {}); wx.__privacyListener = fn },
    openPrivacyContract(opts) { record('openPrivacyContract', {}); finish(opts || {}, true, {}) },
  }
  for (const name of ['navigateTo', 'redirectTo', 'switchTab', 'reLaunch', 'navigateBack', 'showToast',
    'showLoading', 'hideLoading', 'stopPullDownRefresh', 'previewImage', 'setNavigationBarTitle']) {
    wx[name] = (opts = {}) => { record(name, opts); finish(opts, true, { errMsg: name + ':ok' }) }
  }
  return wx
}

module.exports = { createWx }
