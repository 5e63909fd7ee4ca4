// What every page shares: 大字模式, times in Beijing time, the subscribe-message request.
const LARGE_KEY = 'largeType'

function isLarge() {
  return !!wx.getStorageSync(LARGE_KEY)
}

function setLarge(on) {
  wx.setStorageSync(LARGE_KEY, !!on)
}

const pad = (n) => (n < 10 ? '0' + n : '' + n)

// "2026-12-07T08:30:00+00:00" → "12月7日 16:30" (Asia/Shanghai, whatever the phone's zone).
function when(iso) {
  if (!iso) return ''
  const t = new Date(iso)
  if (isNaN(t.getTime())) return ''
  const bj = new Date(t.getTime() + 8 * 3600 * 1000)
  return `${bj.getUTCMonth() + 1}月${bj.getUTCDate()}日 ${pad(bj.getUTCHours())}:${pad(bj.getUTCMinutes())}`
}

// Ask for the backend's templates (at most three) while the resident's tap is still on: WeChat
// allows wx.requestSubscribeMessage only inside a tap. Never blocks the submit: any answer goes on.
function askSubscribe(tmplIds) {
  return new Promise((resolve) => {
    if (!tmplIds || !tmplIds.length || !wx.requestSubscribeMessage) return resolve({})
    wx.requestSubscribeMessage({ tmplIds: tmplIds.slice(0, 3), success: resolve, fail: () => resolve({}) })
  })
}

function errorText(err) {
  return (err && err.message) || '没有办成，请稍后再试'
}

module.exports = { isLarge, setLarge, when, askSubscribe, errorText }
