// The backend's resident API. Sign-in is silent: wx.login's code goes to POST /api/v1/auth/wechat
// (code2session on the server), the token is kept in storage, and a 401 (expired, or logged out on
// another device) signs in again once and repeats the call. The resident never sees a login page.
const { apiBase } = require('../config')

const TOKEN_KEY = 'token'
const NETWORK = '网络不给力，请检查网络后点“重试”'

class ApiError extends Error {
  constructor(message, status, code, fields) {
    super(message)
    this.status = status || 0
    this.code = code || ''
    this.fields = fields || {}
    // What a retry may fix: no answer at all, a server error, too many requests.
    this.retryable = !status || status >= 500 || status === 429
  }
}

function errorOf(res) {
  const body = typeof res.data === 'string' ? safeJson(res.data) : res.data
  const error = (body && body.error) || {}
  const status = res.statusCode
  let message = error.message
  if (!message || /^[\x00-\x7f]*$/.test(message)) {  // the backend speaks Chinese; anything else is ours to say
    message = status === 429 ? '操作太频繁，请稍后再试'
      : status === 413 ? '文件太大了，请换一张小一点的照片'
      : status >= 500 ? '服务暂时不可用，请稍后点“重试”'
      : status === 404 ? '没有找到，可能已被撤回'
      : status === 422 ? '填写的内容有误，请检查后再提交'
      : '没有办成，请稍后再试'
  }
  return new ApiError(message, status, error.code, error.fields)
}

function safeJson(text) {
  try { return JSON.parse(text) } catch (e) { return null }
}

function raw(method, path, data, token, header) {
  return new Promise((resolve, reject) => {
    wx.request({
      url: apiBase() + path,
      method,
      data,
      timeout: 20000,
      header: Object.assign({ 'content-type': 'application/json' },
        token ? { Authorization: 'Bearer ' + token } : {}, header || {}),
      success: resolve,
      fail: () => reject(new ApiError(NETWORK, 0, 'network')),
    })
  })
}

let signingIn = null

// wx.login → token. Concurrent callers share one sign-in.
function signIn() {
  if (!signingIn) {
    signingIn = new Promise((resolve, reject) => {
      wx.login({
        success: (res) => (res.code ? resolve(res.code) : reject(new ApiError('微信登录没有成功，请点“重试”', 0, 'login'))),
        fail: () => reject(new ApiError('微信登录没有成功，请点“重试”', 0, 'login')),
      })
    }).then((code) => raw('POST', '/api/v1/auth/wechat', { code }))
      .then((res) => {
        if (res.statusCode !== 200) throw errorOf(res)
        wx.setStorageSync(TOKEN_KEY, res.data.token)
        return res.data.token
      })
    const done = () => { signingIn = null }
    signingIn.then(done, done)
  }
  return signingIn
}

async function token() {
  return wx.getStorageSync(TOKEN_KEY) || signIn()
}

async function withToken(send) {
  let res = await send(await token())
  if (res.statusCode === 401) {  // expired or ended elsewhere: sign in again, once
    wx.removeStorageSync(TOKEN_KEY)
    res = await send(await signIn())
  }
  if (res.statusCode >= 200 && res.statusCode < 300) return res.data
  throw errorOf(res)
}

function request(method, path, data, header) {
  return withToken((t) => raw(method, path, data, t, header))
}

// A photo to an order: multipart, field "photo" (POST /api/v1/orders/<number>/photos).
function upload(path, filePath) {
  return withToken((t) => new Promise((resolve, reject) => {
    wx.uploadFile({
      url: apiBase() + path,
      filePath,
      name: 'photo',
      timeout: 60000,
      header: { Authorization: 'Bearer ' + t },
      success: (res) => resolve(Object.assign({}, res, { data: safeJson(res.data) || res.data })),
      fail: () => reject(new ApiError(NETWORK, 0, 'network')),
    })
  }))
}

// A photo of an order, for <image>: the file needs the token, so it is downloaded first.
function download(url) {
  const full = /^https?:/.test(url) ? url : apiBase() + url
  return withToken((t) => new Promise((resolve, reject) => {
    wx.downloadFile({
      url: full,
      header: { Authorization: 'Bearer ' + t },
      success: (res) => resolve(Object.assign({}, res, { data: res.tempFilePath })),
      fail: () => reject(new ApiError(NETWORK, 0, 'network')),
    })
  }))
}

let configCache = null

// GET /api/v1/miniprogram/config: subscribe template ids, photo limits, registered buildings.
async function config() {
  if (!configCache) configCache = await request('GET', '/api/v1/miniprogram/config')
  return configCache
}

function clientId() {
  let id = Date.now().toString(36)
  for (let i = 0; i < 4; i++) id += Math.random().toString(36).slice(2, 8)
  return 'mp-' + id
}

module.exports = {
  ApiError, request, upload, download, config, signIn, token, clientId,
  get: (path) => request('GET', path),
  post: (path, data, header) => request('POST', path, data || {}, header),
  _reset() { configCache = null; signingIn = null },
}
