// Where the backend is, per environment. WeChat tells which build is running
// (wx.getAccountInfoSync().miniProgram.envVersion): develop = DevTools and 开发版, trial = 体验版,
// release = 正式版. Every address here must be on the mini-program's request domain whitelist
// (小程序后台 → 开发管理 → 服务器域名: request, uploadFile, downloadFile), https only outside DevTools.
const API_BASE = {
  develop: 'http://127.0.0.1:5000',
  trial: 'https://mailbox-test.example.cn',
  release: 'https://mailbox.example.cn',
}

function envVersion() {
  try {
    return wx.getAccountInfoSync().miniProgram.envVersion || 'release'
  } catch (e) {
    return 'release'
  }
}

// A developer may point a develop or trial build at another server (我的 → 服务器地址, stored as
// apiBase); the release build always talks to its own.
function apiBase() {
  const env = envVersion()
  const chosen = env === 'release' ? '' : wx.getStorageSync('apiBase')
  return (chosen || API_BASE[env] || API_BASE.release).replace(/\/+$/, '')
}

module.exports = { API_BASE, apiBase, envVersion }
